"""Agenda items and the decisions recorded on them."""
from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cases.models import HandoffKind
from committee import services
from committee.models import ActionItem, AgendaItem, Decision
from committee.selectors import meetings_visible_to

from .action_items import ActionItemInline
from .common import ServiceErrorsAsMessages, recordable, run_each, saved_by_services


class DecisionInlineForm(forms.ModelForm):
    class Meta:
        model = Decision
        fields = ["text", "outcome", "position_pe", "position_cl", "position_int"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2, "cols": 50})}


class DecisionInline(admin.StackedInline):
    model = Decision
    form = DecisionInlineForm
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False  # a recorded decision is not rewritten; record a new one

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and obj is not None and recordable(obj.meeting)


class AgendaItemActionInline(ActionItemInline):
    fk_name = "agenda_item"


@admin.register(AgendaItem)
class AgendaItemAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    list_display = ["title", "meeting", "position", "kind", "case_label", "status"]
    list_filter = ["kind", "status", "meeting__committee"]
    search_fields = ["title", "case_label"]
    fields = ["meeting", "position", "kind", "title", "notes", "planned_minutes", "case", "case_label", "handoff",
              "handoff_name", "action_item", "status", "deferred_from"]
    readonly_fields = ["meeting", "position", "case_label", "handoff_name", "deferred_from"]
    autocomplete_fields = ["case", "handoff", "action_item"]
    inlines = [DecisionInline, AgendaItemActionInline]
    actions = ["defer_selected"]
    service_arg = "item"

    @admin.display(description=_("handoff"))
    def handoff_name(self, obj):
        """The saved label names the kind by its code (the API's value); here it reads in the reader's language."""
        label = obj.handoff_label
        for kind in HandoffKind:
            label = label.replace(f" · {kind.value} · ", f" · {kind.label} · ")
        return label or "—"

    def get_queryset(self, request):
        return (AgendaItem.objects.filter(meeting__in=meetings_visible_to(request.user).values("pk"))
                .select_related("meeting", "meeting__committee"))

    def has_add_permission(self, request):
        return False  # items are added on their meeting's page

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request, obj):
        services.agenda_item_delete(actor=request.user, item=obj)

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data
                   if name in ["kind", "title", "notes", "planned_minutes", "case", "handoff", "action_item", "status"]}
        services.agenda_item_update(actor=request.user, item=obj, changes=changes)
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        saved_by_services(formset)
        item = form.instance
        for f in formset.forms:
            if not f.has_changed() or not f.cleaned_data:
                continue
            if formset.model is Decision:
                services.decision_record(actor=request.user, agenda_item=item, text=f.cleaned_data["text"],
                                         outcome=f.cleaned_data["outcome"], positions={
                                             "PE": f.cleaned_data["position_pe"], "CL": f.cleaned_data["position_cl"],
                                             "INT": f.cleaned_data["position_int"]})
            elif formset.model is ActionItem:
                fields = {name: f.cleaned_data[name] for name in ["title", "owner_agency", "assignee", "due_at"]}
                if f.instance._state.adding:
                    services.action_item_create(actor=request.user, agenda_item=item, **fields)
                else:
                    services.action_item_update(actor=request.user, item=f.instance, changes={
                        name: fields[name] for name in f.changed_data if name in fields})

    @admin.action(description=_("Defer to the next scheduled meeting"), permissions=["change"])
    def defer_selected(self, request, queryset):
        run_each(self, request, services.agenda_item_defer, queryset,
                 _("%(count)d item(s) carried to the next meeting."))
