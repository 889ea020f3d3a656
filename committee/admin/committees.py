"""Committees and their members."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from committee.models import Committee, Membership
from committee.selectors import committees_visible_to


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "delegation"]
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Committee)
class CommitteeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "parent", "quorum_pe", "quorum_cl", "quorum_int", "active"]
    list_filter = ["active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "code", "parent", "description", "active"]}),
        (_("Quorum"), {"fields": ["quorum_pe", "quorum_cl", "quorum_int"],
                       "description": _("Present voting members (chair or member) needed from each delegation.")}),
    ]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return committees_visible_to(request.user).select_related("parent")
