"""Build or bring up to date the statistics rollup now (beat does it every minute)."""
import time

from django.core.management.base import BaseCommand

from figures.rollup import refresh


class Command(BaseCommand):
    help = "Build the statistics rollup, or bring it up to date with the outbox."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true",
                            help="Build every period again (after changing PUENTE_COMMITTEE_TIME_ZONE).")

    def handle(self, *args, **options):
        started = time.monotonic()
        taken = refresh(rebuild=options["rebuild"])
        if options["verbosity"] == 0:
            return
        if taken is None:
            self.stdout.write("another refresh is running")
        else:
            self.stdout.write(f"statistics rollup up to date ({taken} events) in {time.monotonic() - started:.1f} s")
