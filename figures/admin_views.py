"""The situation report in the admin: a printable page and its PDF, in Spanish or English."""
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation

from api_core.printing import pdf_response, printout_language
from committee.selectors import meeting_for

from .charts import bar_chart
from .report import situation_report


def _chart(figures, measure: str, title: str):
    dimension = figures.group_by[0]
    return bar_chart([(row.get(f"{dimension}_label") or str(row[dimension]), row[measure]) for row in figures.rows],
                     title=title)


def _measure(figures) -> str:
    return next(m for m in ("cases", "handoffs", "action_items") if m in figures.measures)


def _render(request, object_id, *, pdf: bool = False) -> tuple[str, object]:
    meeting = meeting_for(request.user, object_id)  # 404 for anyone who may not see the meeting
    language = printout_language(request)
    with translation.override(language), timezone.override(meeting.zone):
        report = situation_report(request.user, meeting)
        sections = [{"title": title, "measure": _measure(period), "period": period, "cumulative": cumulative,
                     "period_chart": _chart(period, _measure(period), str(title)),
                     "cumulative_chart": _chart(cumulative, _measure(cumulative), str(title))}
                    for title, period, cumulative in report.sections()]
        html = render_to_string("figures/situation_report.html", {
            "meeting": meeting, "report": report, "sections": sections, "language": language,
            "printed_at": timezone.now(), "pdf": pdf,
        }, request=request)
    return html, meeting


def situation_report_page(request, object_id):
    html, _meeting = _render(request, object_id)
    return HttpResponse(html)


def situation_report_pdf(request, object_id):
    html, meeting = _render(request, object_id, pdf=True)
    return pdf_response(html, filename=f"situation-report-{meeting.pk}.pdf", download=False)
