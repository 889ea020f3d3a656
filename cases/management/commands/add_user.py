import os

from django.core.management.base import BaseCommand, CommandError

from api_core.errors import ServiceError
from cases.models import Language
from cases.roles import Role
from cases.services import user_upsert


class Command(BaseCommand):
    help = "Create a user, or update it if the username exists. Passwords come from the environment only."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--agency", help="agency code")
        parser.add_argument("--role", choices=Role.values)
        parser.add_argument("--language", choices=Language.values)
        parser.add_argument("--time-zone")
        parser.add_argument("--password-from-env", metavar="VAR",
                            help="name of an environment variable holding the password")

    def handle(self, *args, username, email, agency, role, language, time_zone, password_from_env, **options):
        password = None
        if password_from_env:
            password = os.environ.get(password_from_env)
            if not password:
                raise CommandError(f"Environment variable {password_from_env} is not set or empty.")
        try:
            user, created = user_upsert(
                username=username, email=email, agency_code=agency, role=role,
                language=language, time_zone=time_zone, password=password,
            )
        except ServiceError as exc:
            raise CommandError(f"{exc.field or 'user'}: {exc.message}") from exc
        self.stdout.write(f"{'Created' if created else 'Updated'} user {user.username}")
