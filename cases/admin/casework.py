"""Admin for people, cases, consents, notes, history and the access log.

The secretariat reads here; nobody writes cases through the admin (agencies
use the API, whose services hold the rules). What a user sees comes from the
same selectors as the API, and every case the secretariat looks at is logged
with channel ``admin``."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from api_core.errors import ServiceError
from cases.models import (
    Case,
    CaseAccessLog,
    CaseMember,
    Consent,
    DuplicateCandidate,
    Note,
    Person,
    Relationship,
    Vulnerability,
    vulnerability_field,
)
from cases.models.audit import AccessChannel
from cases.roles import Role
from cases.selectors import cases_fully_visible_to, cases_visible_to, log_case_reads, people_visible_to
from cases.services.casework import duplicate_candidates_mark_reviewed

from .display import agency_code, iso
from .exports import ExportActions
from .history import timeline_page


def _head_nationality():
    heads = CaseMember.objects.filter(case=OuterRef("pk"), relationship=Relationship.HEAD)
    return Subquery(heads.values("person__nationality")[:1])


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class VulnerabilityFilter(admin.SimpleListFilter):
    title = _("vulnerability")
    parameter_name = "vulnerability"

    def lookups(self, request, model_admin):
        return Vulnerability.choices

    def queryset(self, request, queryset):
        if self.value() in Vulnerability.values:
            return queryset.filter(**{vulnerability_field(self.value()): True})
        return queryset


class MemberInline(ReadOnlyInline):
    model = CaseMember
    fields = ["person_link", "relationship", "nationality", "document", "added_at"]
    verbose_name_plural = _("members")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person")

    @admin.display(description=_("person"))
    def person_link(self, member):
        url = reverse("admin:cases_person_change", args=[member.person_id])
        return format_html('<a href="{}">{}</a>', url, member.person)

    @admin.display(description=_("nationality"))
    def nationality(self, member):
        return member.person.nationality.code or "—"

    @admin.display(description=_("document"))
    def document(self, member):
        person = member.person
        return f"{person.get_document_type_display()} {person.document_country.code or ''} {person.document_number}"


class NoteInline(ReadOnlyInline):
    model = Note
    fields = ["created_at", "agency", "author", "visibility", "body"]


class ConsentInline(ReadOnlyInline):
    model = Consent
    fields = ["scope", "method", "given_at", "given_by", "recorded_by", "recorded_by_agency", "withdrawn_at"]


@admin.register(Case)
class CaseAdmin(ExportActions, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["reference", "status", "priority", "owner_code", "head_nationality", "member_count",
                    "created_at", "closed_at"]
    list_filter = ["status", "priority", "owner_agency", "owner_agency__country", VulnerabilityFilter,
                   "border_point"]
    list_select_related = ["owner_agency"]
    search_fields = ["reference", "memberships__person__given_names", "memberships__person__family_names",
                     "memberships__person__document_number"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    inlines = [MemberInline, NoteInline, ConsentInline]  # the history is a timeline below (.history)
    fields = ["reference", "status", "closure_reason", "closure_note", "closed_at", "priority", "border_point",
              "vulnerability_list", "owner_agency", "assigned_to", "summary", "member_count", "created_by",
              "created_at", "updated_at", "anonymised_at"]
    readonly_fields = fields
    actions = ["export_csv", "export_xlsx"]
    export_name = "cases"

    def get_queryset(self, request):
        return cases_visible_to(request.user).annotate(head_nationality=_head_nationality())

    @admin.display(description=_("owner agency"), ordering="owner_agency__code")
    def owner_code(self, case):
        return agency_code(case.owner_agency)

    @admin.display(description=_("nationality of the head"), ordering="head_nationality")
    def head_nationality(self, case):
        return case.head_nationality or "—"

    @admin.display(description=_("vulnerabilities"))
    def vulnerability_list(self, case):
        labels = dict(Vulnerability.choices)
        return ", ".join(str(labels[flag]) for flag in case.vulnerabilities) or "—"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        if request.method == "GET":
            case = self.get_object(request, unquote(object_id))
            if case is not None:
                log_case_reads(request.user, [case], channel=AccessChannel.ADMIN)
                extra_context["history"] = timeline_page(case, request.GET.get("history_page"))
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            log_case_reads(request.user, changelist.result_list, channel=AccessChannel.ADMIN)
        return response

    def export_table(self, request, queryset):
        """Reference, status, priority, owner agency, nationality of the head,
        member count, opened and closed — nothing that names anyone."""
        cases = list(queryset.select_related("owner_agency").order_by("created_at", "pk"))
        log_case_reads(request.user, cases, channel=AccessChannel.ADMIN)
        return [
            "reference", "status", "priority", "owner_agency", "head_nationality", "member_count", "opened_at",
            "closed_at"], [
            [case.reference, case.status, case.priority, case.owner_agency.code, case.head_nationality or "",
             case.member_count, iso(case.created_at), iso(case.closed_at)] for case in cases]


class MembershipInline(ReadOnlyInline):
    model = CaseMember
    fields = ["case_link", "relationship", "case_status", "owner_agency", "added_at"]
    verbose_name_plural = _("cases")

    def get_queryset(self, request):
        visible = cases_fully_visible_to(request.user).values("pk")
        return super().get_queryset(request).filter(case__in=visible).select_related("case__owner_agency")

    @admin.display(description=_("case"))
    def case_link(self, member):
        url = reverse("admin:cases_case_change", args=[member.case_id])
        return format_html('<a href="{}">{}</a>', url, member.case.reference)

    @admin.display(description=_("status"))
    def case_status(self, member):
        return member.case.get_status_display()

    @admin.display(description=_("owner agency"))
    def owner_agency(self, member):
        return member.case.owner_agency.code


@admin.register(Person)
class PersonAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "sex", "date_of_birth", "nationality", "document_type", "document_number",
                    "created_by_agency"]
    list_filter = ["nationality", "document_type", "sex", "created_by_agency"]
    search_fields = ["given_names", "family_names", "document_number"]
    list_select_related = ["created_by_agency"]
    fields = ["given_names", "family_names", "sex", "date_of_birth", "date_of_birth_is_estimate", "nationality",
              "document_type", "document_country", "document_number", "phone", "languages", "created_by_agency",
              "created_at", "updated_at", "anonymised_at"]
    readonly_fields = fields
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return people_visible_to(request.user)

    def _log(self, request, people):
        cases = cases_fully_visible_to(request.user).filter(memberships__person__in=list(people)).distinct()
        log_case_reads(request.user, cases, channel=AccessChannel.ADMIN)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            person = self.get_object(request, unquote(object_id))
            if person is not None:
                self._log(request, [person])
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            self._log(request, changelist.result_list)
        return response


class SecretariatOnlyMixin:
    # Django's permission check first: it is False for the anonymous visitor of
    # the login page, who has no roles to ask about.
    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and request.user.has_role(Role.SECRETARIAT)

    def has_module_permission(self, request):
        return super().has_module_permission(request) and request.user.has_role(Role.SECRETARIAT)


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(SecretariatOnlyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Registrations whose document matches a person the registering agency
    could not see. The agencies are never told; the secretariat decides."""

    list_display = ["detected_at", "new_person_link", "new_person_agency", "existing_person_link",
                    "existing_person_agency", "reviewed_at", "reviewed_by"]
    list_filter = [("reviewed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["new_person__created_by_agency", "existing_person__created_by_agency", "reviewed_by"]
    fields = ["new_person", "existing_person", "detected_at", "reviewed_at", "reviewed_by"]
    readonly_fields = fields
    actions = ["mark_reviewed"]

    @admin.display(description=_("new person"))
    def new_person_link(self, candidate):
        return format_html('<a href="{}">{}</a>', reverse("admin:cases_person_change",
                                                          args=[candidate.new_person_id]), candidate.new_person)

    @admin.display(description=_("existing person"))
    def existing_person_link(self, candidate):
        return format_html('<a href="{}">{}</a>', reverse("admin:cases_person_change",
                                                          args=[candidate.existing_person_id]),
                           candidate.existing_person)

    @admin.display(description=_("registered by"))
    def new_person_agency(self, candidate):
        return candidate.new_person.created_by_agency.code

    @admin.display(description=_("first registered by"))
    def existing_person_agency(self, candidate):
        return candidate.existing_person.created_by_agency.code

    def has_review_permission(self, request):
        return request.user.has_role(Role.SECRETARIAT)

    @admin.action(description=_("Mark as reviewed"), permissions=["review"])
    def mark_reviewed(self, request, queryset):
        try:
            count = duplicate_candidates_mark_reviewed(actor=request.user,
                                                       candidate_ids=queryset.values_list("pk", flat=True))
        except ServiceError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(request, _("%(count)d possible duplicate(s) marked as reviewed.") % {"count": count},
                          messages.SUCCESS)


@admin.register(CaseAccessLog)
class CaseAccessLogAdmin(SecretariatOnlyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "case", "user", "agency", "access", "channel"]
    list_filter = ["channel", "access", "agency"]
    list_select_related = ["case", "user", "agency"]
    search_fields = ["case__reference", "user__username"]
    date_hierarchy = "at"
    fields = ["at", "case", "user", "agency", "access", "channel"]
    readonly_fields = fields
