"""What every committee admin page shares: service refusals shown as
messages, and bulk actions that call one service per selected object."""
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils import timezone

from api_core.errors import ServiceError
from committee.models import MeetingStatus


class ServiceErrorsAsMessages:
    """A refusal from a service is shown on the page it came from, not a 500.
    The admin's transaction rolls the whole form back; the page is then shown
    again from what was posted, the refusal as the form's error, so nothing
    typed (an agenda row, the minutes) is lost."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as exc:
            if request.method != "POST":
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(request.get_full_path())
            request.service_refusal = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "service_refusal", None)
        if refusal is None:
            return form

        class Refused(form):
            def clean(self):
                cleaned = super().clean()
                self.add_error(refusal.field if refusal.field in self.fields else None, refusal.message)
                return cleaned

        return Refused


def run_each(admin_obj, request, service, queryset, success, **kwargs) -> None:
    """Apply ``service`` to each selected object; report what went through."""
    done = 0
    for obj in queryset:
        try:
            service(actor=request.user, **{admin_obj.service_arg: obj}, **kwargs)
            done += 1
        except ServiceError as exc:
            admin_obj.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
    if done:
        admin_obj.message_user(request, success % {"count": done}, messages.SUCCESS)


def saved_by_services(formset) -> None:
    """The services saved the rows; the admin's change message only needs to
    find these lists."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


def recordable(meeting) -> bool:
    """Attendance and decisions are facts of a meeting that has begun, and
    stay open until its minutes are approved."""
    return meeting is not None and meeting.status != MeetingStatus.CANCELLED and not meeting.minutes_locked and (
        meeting.status == MeetingStatus.HELD or meeting.starts_at <= timezone.now())
