from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from cases.models import Agency, User
from cases.roles import Role, role_label
from signin.services import user_factors_reset, user_lockout_lift


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "kind", "language", "time_zone", "active"]
    list_filter = ["country", "kind", "active"]
    search_fields = ["code", "name"]
    readonly_fields = ["created_at", "updated_at"]


class RoleFilter(admin.SimpleListFilter):
    """Roles are groups: offered by name in the reader's language, filtered by the group's code name."""

    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return Role.choices

    def queryset(self, request, queryset):
        if self.value() in Role.values:
            return queryset.filter(groups__name=self.value())
        return queryset  # an unknown value leaves the list unfiltered


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "agency", "role_names", "language", "is_active", "is_staff",
                    "second_factor"]
    list_filter = ["agency__country", "agency", RoleFilter, "is_active", "is_staff"]
    list_select_related = ["agency"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("Puente"), {"fields": ["agency", "language", "time_zone"]}),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (
        (_("Puente"), {"fields": ["email", "agency", "language", "groups"]}),
    )

    actions = ["reset_second_factors", "lift_lockout"]

    def get_queryset(self, request):
        confirmed = {"user": OuterRef("pk"), "confirmed": True}
        return super().get_queryset(request).prefetch_related("groups").annotate(
            has_second_factor=Exists(TOTPDevice.objects.filter(**confirmed))
            | Exists(WebAuthnCredential.objects.filter(**confirmed)),
        )

    def has_manage_signin_permission(self, request):
        return request.user.has_perm("signin.manage_signin")

    @admin.display(description=_("second factor"), boolean=True)
    def second_factor(self, obj):
        return obj.has_second_factor

    @admin.action(description=_("Reset second factors (they enrol again at their next sign-in)"),
                  permissions=["manage_signin"])
    def reset_second_factors(self, request, queryset):
        for user in queryset:
            user_factors_reset(user=user, actor=request.user, request=request)
            self.log_change(request, user, _("Second factors reset."))
        count = len(queryset)
        messages.success(request, ngettext("Second factors reset for %(count)d person.",
                                           "Second factors reset for %(count)d people.", count) % {"count": count})

    @admin.action(description=_("Lift sign-in lockout"), permissions=["manage_signin"])
    def lift_lockout(self, request, queryset):
        for user in queryset:
            user_lockout_lift(user=user, actor=request.user, request=request)
            self.log_change(request, user, _("Sign-in lockout lifted."))
        count = len(queryset)
        messages.success(request, ngettext("Sign-in lockout lifted for %(count)d person.",
                                           "Sign-in lockout lifted for %(count)d people.", count) % {"count": count})

    @admin.display(description=_("roles"))
    def role_names(self, obj):
        return ", ".join(sorted(role_label(group.name) for group in obj.groups.all()))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups":
            field.label_from_instance = lambda group: role_label(group.name)
        return field
