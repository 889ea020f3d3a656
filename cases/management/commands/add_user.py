import os

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from api_core.errors import ServiceError
from cases.models import Language
from cases.roles import Role
from cases.services import user_upsert
from signin.services import totp_device_provision


class Command(BaseCommand):
    help = ("Create a user, or update it if the username exists. Passwords and TOTP secrets come from the "
            "environment only; a password the validators refuse creates nothing.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--agency", help="agency code")
        parser.add_argument("--role", choices=Role.values)
        parser.add_argument("--language", choices=Language.values)
        parser.add_argument("--time-zone")
        parser.add_argument("--password-from-env", metavar="VAR",
                            help="name of an environment variable holding the password")
        parser.add_argument("--totp-secret-from-env", metavar="VAR",
                            help="name of an environment variable holding a base32 TOTP secret to enrol as the "
                                 "user's authenticator app (replaces an earlier one)")

    def handle(self, *args, username, email, agency, role, language, time_zone, password_from_env,
               totp_secret_from_env, **options):
        password = _from_env(password_from_env)
        totp_secret = _from_env(totp_secret_from_env)
        try:
            with transaction.atomic():
                user, created = user_upsert(
                    username=username, email=email, agency_code=agency, role=role,
                    language=language, time_zone=time_zone, password=password,
                )
                if totp_secret is not None:
                    totp_device_provision(user=user, secret=totp_secret)
        except ServiceError as exc:
            raise CommandError(f"{exc.field or 'user'}: {exc.message}") from exc
        self.stdout.write(f"{'Created' if created else 'Updated'} user {user.username}"
                          + (" with a TOTP device" if totp_secret is not None else ""))


def _from_env(variable: str | None) -> str | None:
    if not variable:
        return None
    value = os.environ.get(variable)
    if not value:
        raise CommandError(f"Environment variable {variable} is not set or empty.")
    return value
