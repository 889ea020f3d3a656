from django.core.management.base import BaseCommand
from django.db import transaction

from cases.demo.accounts import seed_accounts
from cases.demo.casework import seed_cases
from cases.demo.handoffs import seed_handoffs
from committee.demo import seed_committee


class Command(BaseCommand):
    help = "Load a realistic demo (idempotent: running it again changes nothing)."

    @transaction.atomic
    def handle(self, *args, **options):
        accounts = seed_accounts()
        cases = seed_cases(accounts)
        handoffs = seed_handoffs(accounts, cases)
        seed_committee(accounts, cases, handoffs)
        self.stdout.write(self.style.SUCCESS(
            f"Demo ready: {len(accounts.agencies)} agencies, {len(accounts.users)} users, "
            f"{len(cases)} cases, {len(handoffs)} handoffs. Password for every demo user: "
            f"{accounts.password}"
        ))
