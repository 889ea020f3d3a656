from django.core.management.base import BaseCommand, CommandError

from api_core.errors import ServiceError
from cases.models import AgencyKind, Country, Language
from cases.services import agency_upsert


class Command(BaseCommand):
    help = "Create an agency, or update it if the code exists."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--name", required=True)
        parser.add_argument("--country", required=True, choices=Country.values)
        parser.add_argument("--kind", choices=AgencyKind.values)
        parser.add_argument("--email")
        parser.add_argument("--language", choices=Language.values)
        parser.add_argument("--time-zone")

    def handle(self, *args, code, name, country, kind, email, language, time_zone, **options):
        try:
            agency, created = agency_upsert(
                code=code, name=name, country=country, kind=kind, contact_email=email,
                language=language, time_zone=time_zone,
            )
        except ServiceError as exc:
            raise CommandError(f"{exc.field or 'agency'}: {exc.message}") from exc
        self.stdout.write(f"{'Created' if created else 'Updated'} agency {agency.code} ({agency.time_zone})")
