"""The rules every installation starts with (written by a data migration;
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
    ("action_item_due", "after", timedelta(hours=72), "secretariat"),
    ("meeting_start", "before", timedelta(hours=48), "committee_members"),
]


def create_default_rules(apps, schema_editor=None) -> None:
    ReminderRule = apps.get_model("reminders", "ReminderRule")
    for deadline_kind, timing, offset, recipients in DEFAULT_RULES:
        ReminderRule.objects.get_or_create(deadline_kind=deadline_kind, timing=timing, offset=offset,
                                           recipients=recipients)
