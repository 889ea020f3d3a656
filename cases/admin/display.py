"""Columns shared by the admin lists of several apps: how "overdue" and an
agency read at a glance."""
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _


def overdue_badge(is_overdue: bool) -> str:
    """Red and labelled — never a check mark, which reads as "all good"."""
    if not is_overdue:
        return ""
    return format_html('<span class="overdue-badge" role="status">⚠ {}</span>', _("Overdue"))


def agency_code(agency) -> str:
    """The code in the column (it fits a laptop screen), the name on hover."""
    if agency is None:
        return "—"
    return format_html('<abbr class="agency-code" title="{}">{}</abbr>', agency.name, agency.code)


def iso(value) -> str:
    return value.isoformat() if value else ""
