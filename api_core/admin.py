from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import ApiToken
from .services import token_issue, tokens_revoke


class OneTimeSecretAdmin(admin.ModelAdmin):
    """An admin whose "add" makes a secret shown once. The secret is shown in
    the answer to the add itself, never carried to the next page in the
    ``messages`` cookie (which the browser keeps, sends back and may log).
    ``save_model`` sets ``request.one_time_secret``; the page says
    ``secret_explanation``."""

    secret_explanation = ""

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "one_time_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request), "opts": opts, "title": str(obj), "secret": secret,
            "explanation": self.secret_explanation,
            "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        }
        response = TemplateResponse(request, "admin/one_time_secret.html", context)
        response["Cache-Control"] = "no-store"
        return response


@admin.register(ApiToken)
class ApiTokenAdmin(OneTimeSecretAdmin):
    list_display = ["prefix", "name", "user", "requests_at_once", "created_at", "expires_at", "last_used_at",
                    "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["user", "name", "expires_at", "max_concurrent_requests", "prefix", "created_at", "last_used_at",
              "revoked_at"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]
    secret_explanation = _("The new token:")

    def get_changeform_initial_data(self, request):
        return {"expires_at": None}

    def get_readonly_fields(self, request, obj=None):
        # Decided when the token is issued (token_issue checks it): a system
        # that needs another limit gets a new token.
        return self.readonly_fields if obj is None else [*self.readonly_fields, "max_concurrent_requests"]

    @admin.display(description=_("requests at once"), ordering="max_concurrent_requests")
    def requests_at_once(self, token):
        if token.max_concurrent_requests is None:
            return _("%(limit)d (default)") % {"limit": token.running_request_limit}
        return token.max_concurrent_requests

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so the record of its use stays

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = token_issue(user=form.cleaned_data["user"], name=form.cleaned_data["name"],
                                 expires_at=form.cleaned_data["expires_at"],
                                 max_concurrent_requests=form.cleaned_data["max_concurrent_requests"])
        obj.pk = token.pk
        obj._state.adding = False
        obj.refresh_from_db()
        request.one_time_secret = raw

    @admin.action(description=_("Revoke selected tokens"))
    def revoke(self, request, queryset):
        count = tokens_revoke(tokens=queryset)
        messages.success(request, _("%(count)d token(s) revoked.") % {"count": count})

