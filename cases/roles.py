"""Roles are Django groups; these are their names and the admin permissions
each one carries (kept in step by a post-migrate hook)."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    SECRETARIAT = "secretariat", _("Committee secretariat")
    COMMITTEE_MEMBER = "committee_member", _("Committee member")


def role_label(group_name: str) -> str:
    """A role group's name in the reader's language (any other group by its name)."""
    return str(Role(group_name).label) if group_name in Role.values else group_name


# "app_label.codename" patterns; "*" matches any model. Object-level scoping
# still comes from the selectors: these only open the admin pages.
ROLE_PERMISSIONS = {
    Role.SECRETARIAT: [
        "cases.view_*", "outbox.view_*",
        "committee.view_*", "committee.add_*", "committee.change_*", "committee.delete_*",
        # Reminder rules (edit, pause) and the reminder log (read, retry).
        "reminders.view_*", "reminders.add_reminderrule", "reminders.change_reminderrule",
        "reminders.change_reminder",
        # Data-subject requests: the list with its deadlines, read only.
        "dataprotection.view_*",
        # Sign-in events; resetting a person's second factors and lifting lockouts.
        "signin.view_signinevent", "signin.manage_signin",
    ],
    # Members read; they may also make themselves a calendar address.
    Role.COMMITTEE_MEMBER: ["committee.view_*", "committee.add_calendarfeed"],
    Role.CASEWORKER: [],
}
