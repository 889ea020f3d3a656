from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from cases.models import Agency, User


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "kind", "language", "time_zone", "active"]
    list_filter = ["country", "kind", "active"]
    search_fields = ["code", "name"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "agency", "role_names", "language", "is_active", "is_staff"]
    list_filter = ["agency__country", "agency", "groups", "is_active", "is_staff"]
    list_select_related = ["agency"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("Puente"), {"fields": ["agency", "language", "time_zone"]}),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (
        (_("Puente"), {"fields": ["email", "agency", "language", "groups"]}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def role_names(self, obj):
        return ", ".join(sorted(group.name for group in obj.groups.all()))
