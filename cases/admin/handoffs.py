"""Admin for handoffs: read-only. Handoffs move only through their workflow
(``cases.services.handoffs``), and in that workflow the secretariat watches
but does not act — the sending and the receiving agency do, over the API. So
this admin has no add, change, delete or transition of its own: nothing here
can bypass a rule."""
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from api_core.times import format_moment
from cases.models import Handoff
from cases.selectors import handoffs_visible_to

from .display import agency_code, iso, moment_column, overdue_badge
from .exports import ExportActions
from .filters import OverdueFilter


class CrossBorderFilter(admin.SimpleListFilter):
    title = _("cross-border")
    parameter_name = "cross_border"

    def lookups(self, request, model_admin):
        return [("yes", _("Cross-border")), ("no", _("Within one country"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.cross_border()
        if self.value() == "no":
            return queryset.domestic()
        return queryset


def _admin_link(obj, label) -> str:
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:  # the model is not in the admin
        return label
    return format_html('<a href="{}">{}</a>', url, label)


@admin.register(Handoff)
class HandoffAdmin(ExportActions, admin.ModelAdmin):
    # What the secretariat chases first, first: at 1366 px beside the menu and the filters the
    # list shows about seven columns. The creation date is the date hierarchy above the list.
    list_display = ["case_reference", "overdue", "due", "status", "kind", "from_code", "to_code", "cross_border"]
    list_filter = [
        "status", "kind", OverdueFilter, CrossBorderFilter,
        ("from_agency", admin.RelatedOnlyFieldListFilter),
        ("to_agency", admin.RelatedOnlyFieldListFilter),
        "legal_basis", "rejection_reason",
    ]
    list_select_related = ["case", "from_agency", "to_agency"]
    search_fields = ["case__reference", "from_agency__code", "to_agency__code"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = ["export_csv", "export_xlsx"]
    export_name = "handoffs"

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def export_table(self, request, queryset):
        """References, agencies, states and dates: nothing that names anyone."""
        handoffs = queryset.select_related("case", "from_agency", "to_agency").order_by("created_at", "id")
        return [
            "case_reference", "kind", "status", "from_agency", "to_agency", "cross_border", "legal_basis",
            "created_at", "response_due", "responded_at", "overdue", "rejection_reason", "completed_at"], (
            [h.case.reference, h.kind, h.status, h.from_agency.code, h.to_agency.code, h.is_cross_border,
             h.legal_basis, iso(h.created_at), iso(h.response_due), iso(h.responded_at), h.is_overdue,
             h.rejection_reason, iso(h.completed_at)] for h in handoffs)
    fieldsets = [
        (None, {"fields": ["case_link", "kind", "status", "from_agency", "to_agency", "requested_by", "reason",
                           "services_requested", "due", "overdue"]}),
        (_("Legal basis"), {"fields": ["cross_border", "legal_basis", "legal_basis_note"]}),
        (_("Answer"), {"fields": ["responded_by", "responded", "rejection_reason", "response_note",
                                  "withdrawn", "completed_by", "completed", "completion_note"]}),
        (_("Chain of handoffs of this case"), {"fields": ["chain"]}),
        (None, {"fields": ["created", "updated"]}),
    ]
    readonly_fields = ["case_link", "due", "overdue", "cross_border", "chain", "responded", "withdrawn", "completed",
                       "created", "updated"]

    def get_queryset(self, request):
        return handoffs_visible_to(request.user).select_related("requested_by", "responded_by", "completed_by")

    def get_ordering(self, request):
        if request.GET.get("overdue") == "yes":
            return ["response_due", "id"]  # most late first
        return super().get_ordering(request)

    @admin.display(description=_("from"), ordering="from_agency__code")
    def from_code(self, obj):
        return agency_code(obj.from_agency)

    @admin.display(description=_("to"), ordering="to_agency__code")
    def to_code(self, obj):
        return agency_code(obj.to_agency)

    # The workflow is the only way to change a handoff.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("case"), ordering="case__reference")
    def case_reference(self, obj):
        return obj.case.reference

    @admin.display(description=_("case"))
    def case_link(self, obj):
        return _admin_link(obj.case, obj.case.reference)

    # Every moment in the reader's zone with the zone named (api_core.times).
    due = moment_column(Handoff, "response_due")
    created = moment_column(Handoff, "created_at")
    updated = moment_column(Handoff, "updated_at")
    responded = moment_column(Handoff, "responded_at")
    withdrawn = moment_column(Handoff, "withdrawn_at")
    completed = moment_column(Handoff, "completed_at")

    @admin.display(description=_("overdue"), ordering="response_due")
    def overdue(self, obj):
        return overdue_badge(obj.is_overdue)

    @admin.display(description=_("cross-border"))
    def cross_border(self, obj):
        return _("yes") if obj.is_cross_border else _("no")  # words, not icons whose alt text is "True"

    @admin.display(description=_("handoffs, oldest first"))
    def chain(self, obj):
        handoffs = obj.case.handoffs.select_related("from_agency", "to_agency").order_by("created_at", "id")
        rows = format_html_join(
            "", "<tr{}><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
            (
                (mark_safe(' style="font-weight:bold"') if handoff.pk == obj.pk else "",
                 format_moment(handoff.created_at), _admin_link(handoff, handoff.get_kind_display()),
                 handoff.from_agency.code, handoff.to_agency.code, handoff.get_status_display(),
                 handoff.get_rejection_reason_display() or "")
                for handoff in handoffs
            ),
        )
        return format_html("<table><tbody>{}</tbody></table>", rows)

    # --- Overdue at a glance ------------------------------------------------------

    def get_urls(self):
        overdue = self.admin_site.admin_view(self.overdue_view)
        return [path("overdue/", overdue, name="cases_handoff_overdue"), *super().get_urls()]

    def overdue_view(self, request):
        """Pending handoffs past their deadline, per receiving agency, most
        late first: what the secretariat chases before a meeting."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        overdue = self.get_queryset(request).overdue(now).order_by("response_due", "id")
        per_agency = (overdue.order_by().values("to_agency__code", "to_agency__name", "to_agency__country")
                      .annotate(count=Count("id"), oldest_due=Min("response_due")).order_by("oldest_due"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Overdue handoffs"),
            "per_agency": per_agency,
            "handoffs": overdue[:500],
            "total": overdue.count(),
            "changelist_url": reverse("admin:cases_handoff_changelist") + "?overdue=yes",
        }
        return TemplateResponse(request, "admin/cases/handoff/overdue.html", context)

