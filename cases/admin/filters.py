"""List filters shared by the admins of several apps."""
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OverdueFilter(admin.SimpleListFilter):
    """For models whose QuerySet has ``overdue(now)``: handoffs, action items."""

    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        overdue = queryset.model._default_manager.all().overdue(timezone.now()).values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=overdue)
        return queryset.exclude(pk__in=overdue)
