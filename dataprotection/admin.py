"""The secretariat's list of data-subject requests: every request with its
legal deadline, overdue ones highlighted, and the person's record as a
printable page in Spanish or English (its read logged, channel ``admin``).
Requests are answered by the agencies through the API, never here."""
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from api_core.errors import Forbidden
from cases.models.audit import AccessChannel

from .export import person_export
from .models import DataRequest
from .selectors import data_requests_visible_to, person_for_export


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.overdue(now)
        if self.value() == "no":
            return queryset.not_overdue(now)
        return queryset


@admin.register(DataRequest)
class DataRequestAdmin(admin.ModelAdmin):
    list_display = ["reference", "kind", "status", "handled_by_agency", "law", "received_at", "deadline",
                    "extended", "restricts_processing", "outcome"]
    list_filter = ["status", OverdueFilter, "kind", "law", ("handled_by_agency", admin.RelatedOnlyFieldListFilter),
                   "outcome"]
    list_select_related = ["handled_by_agency"]
    search_fields = ["reference", "handled_by_agency__code"]
    ordering = ["status", "due_at", "id"]
    actions = None
    fieldsets = [
        (None, {"fields": ["reference", "person_record", "kind", "channel", "requester_note", "handled_by_agency",
                           "law", "received_at", "deadline", "status", "processing_flag"]}),
        (_("Extension"), {"fields": ["original_due_at", "extended_at", "extension_reason"]}),
        (_("Answer"), {"fields": ["outcome", "refusal_ground", "outcome_note", "completed_at", "completed_by",
                                  "erasure_exception", "erasure_exception_note", "anonymised_at"]}),
    ]
    readonly_fields = ["person_record", "deadline", "processing_flag"]

    def get_queryset(self, request):
        return data_requests_visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("deadline"), ordering="due_at")
    def deadline(self, obj):
        if obj.status == "open" and obj.due_at < timezone.now():
            return format_html('<strong style="color:#ba2121">{} · {}</strong>',
                               timezone.localtime(obj.due_at).strftime("%Y-%m-%d %H:%M"), _("overdue"))
        return timezone.localtime(obj.due_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description=_("extended"), boolean=True)
    def extended(self, obj):
        return obj.extended

    @admin.display(description=_("restricts processing"), boolean=True)
    def restricts_processing(self, obj):
        return obj.restricts_processing

    @admin.display(description=_("person's processing restricted"), boolean=True)
    def processing_flag(self, obj):
        return obj.person_restricted

    @admin.display(description=_("person's record"))
    def person_record(self, obj):
        links = [(language, reverse("admin:dataprotection_datarequest_export", args=[obj.pk, language]))
                 for language in ("es", "en")]
        return format_html('<a href="{}">{}</a> · <a href="{}">{}</a>', links[0][1], _("Printable record (Spanish)"),
                           links[1][1], _("Printable record (English)"))

    def get_urls(self):
        return [
            path("<uuid:request_id>/export/<str:language>/", self.admin_site.admin_view(self.export_view),
                 name="dataprotection_datarequest_export"),
            *super().get_urls(),
        ]

    def export_view(self, request, request_id, language):
        """The record of the request's person, to print or save as PDF from the
        browser: who may export whom, and what, decided as for the API."""
        if language not in ("es", "en"):
            raise PermissionDenied
        data_request = self.get_object(request, str(request_id))
        if data_request is None:
            raise PermissionDenied
        try:
            person = person_for_export(request.user, data_request.person_id)
        except (Http404, Forbidden):
            raise PermissionDenied from None
        with translation.override(language):
            record = person_export(request.user, person, channel=AccessChannel.ADMIN)
            response = TemplateResponse(request, "admin/dataprotection/person_record.html", {
                **self.admin_site.each_context(request), "record": record, "data_request": data_request,
                "title": _("Personal data record"), "language": language})
            response.render()
        return response
