from django.conf import settings
from django.core.management.base import BaseCommand

from cases.services.retention import anonymise_due_cases, cases_due_for_anonymisation


class Command(BaseCommand):
    help = "Anonymise closed cases older than the retention period (PUENTE_RETENTION_YEARS)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List the cases that are due; change nothing.")

    def handle(self, *args, dry_run=False, **options):
        years = settings.PUENTE["RETENTION_YEARS"]
        if dry_run:
            references = list(cases_due_for_anonymisation().order_by("closed_at", "pk")
                              .values_list("reference", flat=True))
            verb = "would be anonymised"
        else:
            references = anonymise_due_cases()
            verb = "anonymised"
        for reference in references:
            self.stdout.write(reference)
        self.stdout.write(self.style.SUCCESS(
            f"{len(references)} case(s) closed more than {years} year(s) ago {verb}."))
