from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, token_digest


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["user", "name", "expires_at", "prefix", "created_at", "last_used_at", "revoked_at"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so the record of its use stays

    def save_model(self, request, obj, form, change):
        if not change:
            raw = ApiToken.generate()
            obj.prefix, obj.digest = raw[:12], token_digest(raw)
            super().save_model(request, obj, form, change)
            messages.warning(request, _("New token (copy it now, it is not shown again): %(token)s") % {"token": raw})
            return
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Revoke selected tokens"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        messages.success(request, _("%(count)d token(s) revoked.") % {"count": count})
