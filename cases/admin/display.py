"""Columns shared by the admin lists of several apps: how "overdue" and an
agency read at a glance."""
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from api_core.times import format_moment


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


def moment_column(model, name: str):
    """A date-time field as a column or read-only field: in the reader's zone,
    the zone named (``api_core.times``), sorted by the field."""
    @admin.display(description=model._meta.get_field(name).verbose_name, ordering=name)
    def show(self, obj):
        return format_moment(getattr(obj, name))
    return show


def iso(value) -> str:
    return value.isoformat() if value else ""
