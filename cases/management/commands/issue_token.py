from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api_core.errors import InvalidInput
from api_core.services import token_issue
from cases.models import User


class Command(BaseCommand):
    help = "Issue an API token for a user. The token is printed once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="a label, e.g. the partner system's name")
        parser.add_argument("--expires-in-days", type=int)
        parser.add_argument("--max-concurrent-requests", type=int,
                            help="requests of this token that may run at once (default: the installation's), "
                                 "e.g. 4 for a partner system's four sync threads")

    def handle(self, *args, username, name, expires_in_days, max_concurrent_requests, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user '{username}'.")
        if expires_in_days is not None and expires_in_days <= 0:
            raise CommandError("--expires-in-days must be a positive number.")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        try:
            token, raw = token_issue(user=user, name=name, expires_at=expires_at,
                                     max_concurrent_requests=max_concurrent_requests)
        except InvalidInput as exc:
            raise CommandError(f"--max-concurrent-requests: {exc.message}") from None
        self.stderr.write(f"Token {token.prefix}… for {user.username}; store it now, it is not shown again.")
        self.stdout.write(raw)
