"""The rules every installation starts with (written by data migrations;
the secretariat edits or pauses them in the admin afterwards)."""
from datetime import timedelta

# (deadline kind, timing, offset, recipients)
DEFAULT_RULES = [
    ("handoff_response_due", "before", timedelta(hours=24), "receiving_agency"),
    ("handoff_response_due", "at", timedelta(0), "receiving_agency"),
    ("handoff_response_due", "after", timedelta(hours=24), "secretariat"),  # escalation
    # "assignee" falls back to the owner agency when nobody is assigned.
    ("action_item_due", "before", timedelta(hours=48), "assignee"),
    ("action_item_due", "at", timedelta(0), "assignee"),
    ("action_item_due", "after", timedelta(hours=72), "secretariat"),  # escalation
    ("meeting_start", "before", timedelta(hours=48), "committee_members"),
    # Not a deadline: written by the cancellation itself and sent at once.
    ("meeting_cancelled", "at", timedelta(0), "committee_members"),
    # Data-subject requests: the handling agency, 5 days and 1 day before the legal deadline.
    ("data_request_due", "before", timedelta(days=5), "handling_agency"),
    ("data_request_due", "before", timedelta(days=1), "handling_agency"),
]


def create_default_rules(apps, schema_editor=None, *, kinds=None) -> None:
    """Create the default rules (those of ``kinds`` only, when given) that do not exist yet."""
    ReminderRule = apps.get_model("reminders", "ReminderRule")
    for deadline_kind, timing, offset, recipients in DEFAULT_RULES:
        if kinds is None or deadline_kind in kinds:
            ReminderRule.objects.get_or_create(deadline_kind=deadline_kind, timing=timing, offset=offset,
                                               recipients=recipients)
