"""The reminder email: in the recipient's language, times in the recipient's
time zone with the zone named, plain text and HTML."""
import datetime
import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import dateformat, translation

from .models import RecipientKind, Reminder
from .sources import Due, Recipient

# Day and month names come from Django's own catalogues.
DATE_FORMATS = {
    "es": {"long": r"l j \d\e F \d\e Y, H:i", "short": r"j b Y, H:i"},
    "en": {"long": r"l j F Y, H:i", "short": r"j M Y, H:i"},
}


def format_moment(moment: datetime.datetime, *, time_zone: str, language: str | None = None,
                  style: str = "long") -> str:
    """``martes 7 de abril de 2026, 16:00 America/Santiago (UTC-04:00)``: the
    wall-clock time where the reader is, with the zone and its offset on that
    day. ``language`` defaults to the active one."""
    language = _supported(language or translation.get_language())
    local = moment.astimezone(zoneinfo.ZoneInfo(time_zone))
    with translation.override(language):
        text = dateformat.format(local, DATE_FORMATS[language][style])
    offset = local.utcoffset()
    sign = "-" if offset < datetime.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text} {time_zone} (UTC{sign}{minutes // 60:02d}:{minutes % 60:02d})"


def _supported(language: str | None) -> str:
    language = (language or "").split("-")[0]
    return language if language in DATE_FORMATS else "es"


def build_message(*, reminder: Reminder, due: Due, recipient: Recipient) -> EmailMultiAlternatives:
    rule = reminder.rule
    language, time_zone = recipient.language, recipient.time_zone
    context = {
        **due.context,
        "timing": rule.timing,
        "as_secretariat": rule.recipients == RecipientKind.SECRETARIAT,
        "as_member": rule.recipients == RecipientKind.COMMITTEE_MEMBERS,
        "as_agency": recipient.agency_id is not None,
        "as_assignee": rule.recipients == RecipientKind.ASSIGNEE and recipient.user_id is not None,
        "deadline_long": format_moment(reminder.deadline, time_zone=time_zone, language=language),
        "deadline_short": format_moment(reminder.deadline, time_zone=time_zone, language=language, style="short"),
        "time_zone": time_zone,
    }
    folder = f"reminders/email/{reminder.deadline_kind}"
    with translation.override(language):
        if due.details:
            context.update(due.details())
        subject = " ".join(render_to_string(f"{folder}/subject.txt", context).split())
        text = render_to_string(f"{folder}/body.txt", context)
        html = render_to_string(f"{folder}/body.html", context)
        # Built in the reader's language too (an event's description is text).
        attachments = due.attachments() if due.attachments else []
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[recipient.email],
        headers={
            # The same id for every attempt of this reminder, so that a mail
            # system seeing it twice (a crash after the server accepted it but
            # before we recorded it) can drop the copy.
            "Message-ID": f"<reminder-{reminder.pk}@{urlsplit(settings.PUBLIC_BASE_URL).hostname or 'puente'}>",
            "Auto-Submitted": "auto-generated",  # RFC 3834: no vacation replies
            "Content-Language": language,
        },
    )
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    return message
