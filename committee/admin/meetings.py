"""Meetings: scheduling, cancelling, the agenda, attendance, the minutes."""
import hashlib
import zoneinfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminURLFieldWidget
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from api_core.errors import ServiceError
from api_core.printing import pdf_response, printout_language
from api_core.times import format_meeting, time_zone_choices
from cases.admin.display import moment_column
from cases.admin.exports import ExportActions
from committee import services
from committee.calendar import meeting_calendar
from committee.models import ActionItem, AgendaItem, Attendance, Meeting, MeetingStatus
from committee.selectors import (
    action_items_visible_to,
    agenda_of,
    attendance_of,
    can_manage,
    can_read_minutes,
    committees_visible_to,
    docket_for,
    meeting_for,
    meetings_visible_to,
    quorum_of,
)

from .action_items import ActionItemInline
from .common import ServiceErrorsAsMessages, recordable, run_each, saved_by_services


class AgendaItemInlineForm(forms.ModelForm):
    """Positions are not edited as a field (two items would briefly share one);
    ``order`` says where each row should go and the service renumbers."""
    order = forms.IntegerField(label=_("No."), min_value=1, required=False,
                               widget=forms.NumberInput(attrs={"class": "agenda-order", "style": "width:4em"}))

    class Meta:
        model = AgendaItem
        fields = ["kind", "title", "planned_minutes", "case", "handoff", "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["order"].initial = self.instance.position


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    form = AgendaItemInlineForm
    fields = ["order", "kind", "title", "planned_minutes", "case", "handoff", "status"]
    autocomplete_fields = ["case", "handoff"]
    ordering = ["position"]
    extra = 0
    show_change_link = True
    classes = ["agenda-inline"]
    verbose_name_plural = _("agenda (drag the rows or change the numbers to reorder)")

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.minutes_locked)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not (obj and obj.minutes_locked)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.minutes_locked)

    @admin.display(description=_("No."))
    def order(self, item):
        """The column when the agenda is read-only (locked minutes, a member): the position."""
        return item.position


class AttendanceInline(admin.TabularInline):
    model = Attendance
    fields = ["user", "delegation", "status", "counts_for_quorum"]
    readonly_fields = ["counts_for_quorum"]
    autocomplete_fields = ["user"]
    extra = 0

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and recordable(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and recordable(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.minutes_locked)


_LOCAL_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class MeetingForm(forms.ModelForm):
    """Start and end are typed as wall-clock times of the meeting's own zone,
    whatever the server's or the browser's zone."""

    # A plain local date-time box: the admin's calendar widget would add a note
    # comparing the browser's zone with the server's, which means nothing here.
    starts_at = forms.DateTimeField(label=_("starts at"), widget=_LOCAL_DATETIME, input_formats=_LOCAL_FORMATS)
    ends_at = forms.DateTimeField(label=_("ends at"), widget=_LOCAL_DATETIME, input_formats=_LOCAL_FORMATS)
    video_link = forms.URLField(label=_("Video link"), max_length=500, required=False, assume_scheme="https",
                                widget=AdminURLFieldWidget)
    time_zone = forms.ChoiceField(label=_("time zone"), choices=time_zone_choices, initial="America/Lima",
                                  help_text=_("The zone of the place: every reader sees the meeting's times in it."))

    class Meta:
        model = Meeting
        fields = ["committee", "title", "starts_at", "ends_at", "time_zone", "mode", "place", "video_link",
                  "minutes"]
        help_texts = {"starts_at": _("Wall-clock time in the meeting's time zone (below), for every reader."),
                      "ends_at": _("Wall-clock time in the meeting's time zone (below), for every reader.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("starts_at", "ends_at"):
                self.initial[name] = timezone.localtime(getattr(self.instance, name),
                                                        self.instance.zone).replace(tzinfo=None)

    def clean(self):
        cleaned = super().clean()
        zone_name = cleaned.get("time_zone") or self.instance.time_zone
        try:
            zone = zoneinfo.ZoneInfo(zone_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return cleaned  # the time_zone field reports it
        for name in ("starts_at", "ends_at"):
            if cleaned.get(name) is not None:
                cleaned[name] = timezone.localtime(cleaned[name]).replace(tzinfo=zone)
                setattr(self.instance, name, cleaned[name])
        return cleaned


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


@admin.register(Meeting)
class MeetingAdmin(ExportActions, ServiceErrorsAsMessages, admin.ModelAdmin):
    form = MeetingForm
    # When, whether it is on, and whether it had its quorum come first: they must fit 1366 px.
    list_display = ["title", "local_start", "status", "quorum_reached", "minutes_status", "committee", "mode"]
    list_filter = ["committee", "status", "minutes_status", "mode"]
    search_fields = ["title", "place"]
    date_hierarchy = "starts_at"
    inlines = [AgendaItemInline, AttendanceInline, ActionItemInline]
    readonly_fields = ["status", "sequence", "minutes_status", "circulated_at", "approved_at",
                       "cancellation_reason", "docket_suggestions", "local_times"]
    actions = ["schedule_selected", "cancel_selected", "export_csv", "export_xlsx"]
    export_name = "meetings"
    service_arg = "meeting"
    change_form_template = "admin/committee/meeting/change_form.html"

    class Media:
        js = ["committee/agenda-drag.js"]

    def get_queryset(self, request):
        return meetings_visible_to(request.user).prefetch_related("attendances")

    def get_fieldsets(self, request, obj=None):
        if obj is None or self._times_editable(request, obj):
            where = ["starts_at", "ends_at", "time_zone", "local_times", "mode", "place", "video_link"]
        else:  # read as the meeting's own wall clock, never converted to the reader's or the server's zone
            where = ["local_times", "mode", "place", "video_link"]
        if obj is not None:
            where.append("sequence")
            if obj.status == MeetingStatus.CANCELLED:
                where.append("cancellation_reason")
        fieldsets = [(None, {"fields": ["committee", "title", "status"]}), (_("When and where"), {"fields": where})]
        if obj is not None and obj.status != MeetingStatus.DRAFT and can_read_minutes(request.user, obj):
            fieldsets.append((_("Minutes"), {"fields": ["minutes", "minutes_status", "circulated_at",
                                                        "approved_at"]}))
        if obj is not None and can_manage(request.user) and obj.status in (MeetingStatus.DRAFT,
                                                                           MeetingStatus.SCHEDULED):
            fieldsets.append((_("Docket: suggested for the agenda"), {"fields": ["docket_suggestions"]}))
        return fieldsets

    def _times_editable(self, request, obj) -> bool:
        return self.has_change_permission(request, obj) and obj.status not in (MeetingStatus.HELD,
                                                                                MeetingStatus.CANCELLED)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.readonly_fields)
        if obj is not None:
            # What the service would refuse to change is read-only here: one rule.
            readonly += ["committee", *services.meeting_locked_fields(obj)]
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "committee":
            kwargs["queryset"] = committees_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # drafts are deleted one by one; the rest is cancelled
        return actions

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.status == MeetingStatus.DRAFT)

    def delete_model(self, request, obj):
        services.meeting_delete(actor=request.user, meeting=obj)

    # --- columns and read-only fields

    @admin.display(description=_("starts (meeting's local time)"), ordering="starts_at")
    def local_start(self, obj):
        return format_meeting(obj, with_end=False)

    @admin.display(description=_("quorum"), boolean=True)
    def quorum_reached(self, obj):
        return quorum_of(obj)["reached"] if obj.status == MeetingStatus.HELD else None  # not known before

    @admin.display(description=_("meeting's local time"))
    def local_times(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_meeting(obj)

    circulated_at = moment_column(Meeting, "minutes_circulated_at")
    approved_at = moment_column(Meeting, "minutes_approved_at")

    @admin.display(description=_("suggestions"))
    def docket_suggestions(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        proposals = docket_for(obj)
        link = format_html('<a class="button" href="{}">{}</a>',
                           reverse("admin:committee_meeting_docket", args=[obj.pk]), _("Review and add to the agenda"))
        if not proposals:
            return format_html("{}<br>{}", _("Nothing waiting for the committee."), link)
        rows = format_html_join("", "<li><strong>{}</strong> — {}</li>",
                                ((p.reason, p.title) for p in proposals))
        return format_html('<ul style="margin:0 0 .8em;padding-left:1.2em">{}</ul>{}', rows, link)

    # --- saving through the services

    def save_model(self, request, obj, form, change):
        if change:
            changed = set(form.changed_data)
            if "time_zone" in changed:
                changed |= {"starts_at", "ends_at"}  # the times on screen are meant in the new zone
            changes = {name: form.cleaned_data[name] for name in changed if name in services.MEETING_FIELDS}
            services.meeting_update(actor=request.user, meeting=obj, changes=changes)
        else:
            created = services.meeting_create(actor=request.user, **{
                name: form.cleaned_data[name] for name in ["committee", "title", "starts_at", "ends_at", "time_zone",
                                                           "mode", "place", "video_link"]})
            obj.pk = created.pk
            obj._state.adding = False
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        saved_by_services(formset)
        meeting = form.instance
        if formset.model is AgendaItem:
            self._save_agenda(request, meeting, formset)
        elif formset.model is Attendance:
            if formset.has_changed():
                kept = [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")
                        and (f.instance.pk or f.has_changed())]
                entries = [{"user": f.cleaned_data["user"], "status": f.cleaned_data["status"],
                            "delegation": f.cleaned_data["delegation"]} for f in kept]
                services.attendance_set(actor=request.user, meeting=meeting, entries=entries)
        elif formset.model is ActionItem:
            for f in formset.forms:
                if not f.has_changed():
                    continue
                fields = {name: f.cleaned_data[name] for name in ["title", "owner_agency", "assignee", "due_at"]}
                if f.instance.pk and not f.instance._state.adding:
                    services.action_item_update(actor=request.user, item=f.instance, changes={
                        name: fields[name] for name in f.changed_data if name in fields})
                else:
                    services.action_item_create(actor=request.user, meeting=meeting, **fields)

    def _save_agenda(self, request, meeting, formset):
        wanted = []  # (order asked for, row index, item id)
        for index, f in enumerate(formset.forms):
            if not f.cleaned_data:
                continue
            if f.cleaned_data.get("DELETE"):
                if f.instance.pk and not f.instance._state.adding:
                    services.agenda_item_delete(actor=request.user, item=f.instance)
                continue
            fields = {name: f.cleaned_data[name] for name in AgendaItemInlineForm.Meta.fields}
            if f.instance._state.adding:
                status = fields.pop("status")
                item = services.agenda_item_add(actor=request.user, meeting=meeting, **fields)
                if status != item.status:
                    services.agenda_item_update(actor=request.user, item=item, changes={"status": status})
            else:
                item = f.instance
                changed = {name: fields[name] for name in f.changed_data if name in fields}
                if changed:
                    services.agenda_item_update(actor=request.user, item=item, changes=changed)
            wanted.append((f.cleaned_data.get("order") or 10_000, index, item.pk))
        if wanted:
            order = [pk for _, _, pk in sorted(wanted)]
            current = list(meeting.agenda_items.order_by("position").values_list("pk", flat=True))
            if order != current and set(order) == set(current):
                services.agenda_reorder(actor=request.user, meeting=meeting, order=order)

    # --- workflow: list actions and buttons

    def export_table(self, request, queryset):
        """Times are the meeting's own wall clock, with its zone beside them."""
        meetings = queryset.select_related("committee").annotate(items=Count("agenda_items")).order_by("starts_at")
        return [
            "committee", "title", "local_start", "local_end", "time_zone", "mode", "status", "minutes_status",
            "agenda_items"], (
            [m.committee.code, m.title, m.local_starts_at.strftime("%Y-%m-%d %H:%M"),
             m.local_ends_at.strftime("%Y-%m-%d %H:%M"), m.time_zone, m.mode, m.status, m.minutes_status, m.items]
            for m in meetings)

    @admin.action(description=_("Schedule the selected meetings"), permissions=["change"])
    def schedule_selected(self, request, queryset):
        run_each(self, request, services.meeting_schedule, queryset, _("%(count)d meeting(s) scheduled."))

    @admin.action(description=_("Cancel the selected meetings…"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        form = CancelForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            run_each(self, request, services.meeting_cancel, queryset, _("%(count)d meeting(s) cancelled."),
                 reason=form.cleaned_data["reason"])
            return None
        return TemplateResponse(request, "admin/committee/meeting/cancel.html", {
            **self.admin_site.each_context(request), "title": _("Cancel meetings"), "meetings": queryset,
            "form": form, "opts": self.model._meta, "action": "cancel_selected",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME})

    def get_urls(self):
        def view(name, function):
            return path(f"<uuid:object_id>/{name}/", self.admin_site.admin_view(function),
                        name=f"committee_meeting_{name.replace('/', '_').replace('-', '_')}")

        return [
            view("schedule", self.schedule_view),
            view("mark-held", self.mark_held_view),
            view("cancel", self.cancel_view),
            view("minutes/circulate", self.circulate_view),
            view("minutes/approve", self.approve_view),
            view("ics", self.ics_view),
            view("agenda/print", self.print_agenda_view),
            view("minutes/print", self.print_minutes_view),
            view("agenda/pdf", self.agenda_pdf_view),
            view("minutes/pdf", self.minutes_pdf_view),
            view("docket", self.docket_view),
        ] + super().get_urls()

    def _step(self, request, object_id, service, success, **kwargs):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        meeting = meeting_for(request.user, object_id)
        if not self.has_change_permission(request, meeting):
            raise PermissionDenied
        try:
            service(actor=request.user, meeting=meeting, **kwargs)
            self.message_user(request, success, messages.SUCCESS)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        return HttpResponseRedirect(reverse("admin:committee_meeting_change", args=[meeting.pk]))

    def schedule_view(self, request, object_id):
        return self._step(request, object_id, services.meeting_schedule, _("The meeting is scheduled; the members "
                                                                          "are invited."))

    def mark_held_view(self, request, object_id):
        return self._step(request, object_id, services.meeting_mark_held, _("The meeting is marked as held."))

    def _confirm(self, request, object_id, *, title, question, button, step, confirmed=None):
        """An irreversible step on the minutes: GET shows what will happen and
        the text it happens to, POST does it."""
        if request.method == "POST":
            return step()
        meeting = meeting_for(request.user, object_id)
        if not self.has_change_permission(request, meeting):
            raise PermissionDenied
        return TemplateResponse(request, "admin/committee/meeting/confirm.html", {
            **self.admin_site.each_context(request), "title": title, "question": question, "button": button,
            "opts": self.model._meta, "original": meeting, "minutes": meeting.minutes, "confirmed": confirmed or {}})

    def response_change(self, request, obj):
        if "_circulate" in request.POST:
            # The button is a submit of the page's form: what was typed is saved,
            # and the confirmation shows the text that will go round.
            self.message_user(request, _("The minutes are saved. Read them once more before circulating them."),
                              messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:committee_meeting_minutes_circulate", args=[obj.pk]))
        return super().response_change(request, obj)

    def circulate_view(self, request, object_id):
        meeting = meeting_for(request.user, object_id)
        digest = hashlib.sha256(meeting.minutes.encode()).hexdigest()
        if request.method == "POST" and request.POST.get("minutes_digest") != digest:
            if not self.has_change_permission(request, meeting):
                raise PermissionDenied
            # Changed (or never shown) since the confirmation: circulate only a text that was read.
            self.message_user(request, _("The minutes changed since they were shown to you. Read them again "
                                         "before circulating them."), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return self._confirm(
            request, object_id, title=_("Circulate the minutes"),
            question=_("The members will be able to read these minutes. Once circulated, the text can no longer be "
                       "edited here; it can only be approved."),
            button=_("Yes, circulate the minutes"), confirmed={"minutes_digest": digest},
            step=lambda: self._step(request, object_id, services.minutes_circulate, _("The minutes are circulated.")))

    def approve_view(self, request, object_id):
        return self._confirm(
            request, object_id, title=_("Approve the minutes"),
            question=_("Approved minutes are final: the minutes, attendance, decisions and agenda of this meeting are "
                       "locked and cannot be changed afterwards."),
            button=_("Yes, approve the minutes"),
            step=lambda: self._step(request, object_id, services.minutes_approve,
                                    _("The minutes are approved and locked.")))

    def ics_view(self, request, object_id):
        meeting = meeting_for(request.user, object_id)
        response = HttpResponse(meeting_calendar(meeting), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
        return response

    def cancel_view(self, request, object_id):
        meeting = meeting_for(request.user, object_id)
        if not self.has_change_permission(request, meeting):
            raise PermissionDenied
        form = CancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            return self._step(request, object_id, services.meeting_cancel, _("The meeting is cancelled."),
                              reason=form.cleaned_data["reason"])
        return TemplateResponse(request, "admin/committee/meeting/cancel.html", {
            **self.admin_site.each_context(request), "title": _("Cancel meeting"), "meetings": [meeting],
            "form": form, "opts": self.model._meta, "original": meeting})

    def docket_view(self, request, object_id):
        meeting = meeting_for(request.user, object_id)
        if not can_manage(request.user):
            raise PermissionDenied
        proposals = docket_for(meeting)
        if request.method == "POST":
            chosen = set(request.POST.getlist("proposal"))
            items = [{"source": p.source, "id": p.id} for p in proposals if f"{p.source}:{p.id}" in chosen]
            try:
                added = services.docket_add(actor=request.user, meeting=meeting, items=items) if items else []
                self.message_user(request, _("%(count)d item(s) added to the agenda.") % {"count": len(added)},
                                  messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:committee_meeting_change", args=[meeting.pk]))
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        return TemplateResponse(request, "admin/committee/meeting/docket.html", {
            **self.admin_site.each_context(request), "title": _("Docket for %(meeting)s") % {"meeting": meeting},
            "proposals": proposals, "opts": self.model._meta, "original": meeting, "meeting": meeting})

    def _printout(self, request, object_id, kind) -> tuple[Meeting, str, str]:
        """The meeting, the language and the HTML of its agenda or minutes: the
        one source of the printable page and of the PDF."""
        meeting = meeting_for(request.user, object_id)
        show_minutes = can_read_minutes(request.user, meeting)
        if kind == "minutes" and not show_minutes:
            raise Http404  # draft minutes are the secretariat's working copy
        language = printout_language(request)
        items = list(agenda_of(meeting))
        attendances = list(attendance_of(meeting))
        with translation.override(language), timezone.override(meeting.zone):
            html = render_to_string(f"committee/print/{kind}.html", {
                "meeting": meeting, "committee": meeting.committee, "items": items, "attendances": attendances,
                "quorum": quorum_of(meeting, attendances), "language": language,
                "show_minutes": show_minutes,
                "action_items": action_items_visible_to(request.user).filter(meeting=meeting).order_by(
                    "due_at", "created_at"),
                "printed_at": timezone.now(),
            }, request=request)
        return meeting, language, html

    def _print(self, request, object_id, kind):
        return HttpResponse(self._printout(request, object_id, kind)[2])

    def _pdf(self, request, object_id, kind):
        meeting, language, html = self._printout(request, object_id, kind)
        return pdf_response(html, filename=f"{kind}-{meeting.local_starts_at:%Y-%m-%d}-{language}.pdf")

    def print_agenda_view(self, request, object_id):
        return self._print(request, object_id, "agenda")

    def print_minutes_view(self, request, object_id):
        return self._print(request, object_id, "minutes")

    def agenda_pdf_view(self, request, object_id):
        return self._pdf(request, object_id, "agenda")

    def minutes_pdf_view(self, request, object_id):
        return self._pdf(request, object_id, "minutes")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_manage"] = can_manage(request.user)
        context["can_read_minutes"] = obj is not None and can_read_minutes(request.user, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)
