"""Action items: who does what by when, from a meeting or on their own."""
from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cases.admin.display import agency_code, iso, moment_column, overdue_badge
from cases.admin.exports import ExportActions
from cases.admin.filters import OverdueFilter
from committee import services
from committee.models import ActionItem, ActionItemStatus
from committee.selectors import action_items_visible_to

from .common import ServiceErrorsAsMessages, run_each


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    fk_name = "meeting"
    fields = ["title", "owner_agency", "assignee", "due_at", "status"]
    readonly_fields = ["status"]
    autocomplete_fields = ["assignee"]
    extra = 0
    show_change_link = True
    can_delete = False  # cancel instead: the record of what was asked stays



class ActionItemForm(forms.ModelForm):
    class Meta:
        model = ActionItem
        fields = ["title", "description", "owner_agency", "assignee", "due_at", "meeting", "agenda_item",
                  "decision", "case"]


@admin.register(ActionItem)
class ActionItemAdmin(ExportActions, ServiceErrorsAsMessages, admin.ModelAdmin):
    form = ActionItemForm
    # Late or not, and its state, come first: they must fit 1366 px.
    list_display = ["title", "overdue", "status", "due", "owner", "assignee_name", "meeting"]
    list_filter = [OverdueFilter, "status", "owner_agency", "meeting__committee"]
    list_select_related = ["owner_agency", "assignee", "meeting"]
    search_fields = ["title", "description"]
    date_hierarchy = "due_at"
    autocomplete_fields = ["assignee", "meeting", "case", "agenda_item"]
    raw_id_fields = ["decision"]
    readonly_fields = ["status", "completed", "completed_by", "completion_note", "cancelled",
                       "cancellation_reason"]
    actions = ["complete_selected", "cancel_selected", "export_csv", "export_xlsx"]
    export_name = "action-items"
    service_arg = "item"

    def get_queryset(self, request):
        return action_items_visible_to(request.user).select_related("meeting")

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: the record of what was asked stays

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != ActionItemStatus.OPEN:
            return [*ActionItemForm.Meta.fields, *self.readonly_fields]
        return self.readonly_fields

    def export_table(self, request, queryset):
        """The title the committee wrote, agencies, dates and states; cases by reference only."""
        items = queryset.select_related("owner_agency", "meeting", "case").order_by("due_at", "created_at")
        return [
            "title", "owner_agency", "due_at", "status", "overdue", "meeting", "case_reference", "completed_at"], (
            [i.title, i.owner_agency.code if i.owner_agency_id else "", iso(i.due_at), i.status, i.is_overdue,
             i.meeting.title if i.meeting_id else "", i.case.reference if i.case_id else "", iso(i.completed_at)]
            for i in items)

    def get_ordering(self, request):
        if request.GET.get("overdue") == "yes":
            return ["due_at", "id"]  # most late first
        return super().get_ordering(request)

    due = moment_column(ActionItem, "due_at")
    completed = moment_column(ActionItem, "completed_at")
    cancelled = moment_column(ActionItem, "cancelled_at")

    @admin.display(description=_("overdue"), ordering="due_at")
    def overdue(self, obj):
        return overdue_badge(obj.is_overdue)

    @admin.display(description=_("owner agency"), ordering="owner_agency__code")
    def owner(self, obj):
        return agency_code(obj.owner_agency)

    @admin.display(description=_("assignee"), ordering="assignee__last_name")
    def assignee_name(self, obj):
        return (obj.assignee.get_full_name() or obj.assignee.username) if obj.assignee_id else "—"

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in ActionItemForm.Meta.fields if name in form.cleaned_data}
        if change:
            services.action_item_update(actor=request.user, item=obj, changes={
                name: fields[name] for name in form.changed_data if name in fields})
        else:
            created = services.action_item_create(actor=request.user, **fields)
            obj.pk = created.pk
            obj._state.adding = False
        obj.refresh_from_db()

    @admin.action(description=_("Mark the selected action items done"), permissions=["change"])
    def complete_selected(self, request, queryset):
        run_each(self, request, services.action_item_complete, queryset, _("%(count)d action item(s) done."))

    @admin.action(description=_("Cancel the selected action items"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        run_each(self, request, services.action_item_cancel, queryset, _("%(count)d action item(s) cancelled."))
