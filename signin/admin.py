from django.contrib import admin

from .models import SignInEvent


@admin.register(SignInEvent)
class SignInEventAdmin(admin.ModelAdmin):
    """Read-only: the record of every sign-in attempt and of every reset or unlock."""

    list_display = ["at", "kind", "username", "user", "ip_address", "actor", "detail"]
    list_filter = ["kind", "at"]
    search_fields = ["username", "ip_address"]
    list_select_related = ["user", "actor"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
