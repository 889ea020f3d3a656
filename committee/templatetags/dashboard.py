import datetime
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from committee.dashboard import dashboard_for

register = template.Library()


def _link(name, rows, params):
    """Each figure opens the list it counts, filtered the same way."""
    base = reverse(name)
    for row in rows:
        row["href"] = f"{base}?{urlencode(params(row))}"


@register.inclusion_tag("committee/dashboard/dashboard.html", takes_context=True)
def dashboard(context):
    figures = dashboard_for(context["request"].user)
    cases = figures.get("cases")
    if cases:
        cases_list = "admin:cases_case_changelist"
        _link(cases_list, cases["by_border"],
              lambda r: {"status__exact": "open", "border_point__exact": r["border_point"]})
        _link(cases_list, cases["by_priority"], lambda r: {"status__exact": "open", "priority__exact": r["priority"]})
        _link(cases_list, cases["by_vulnerability"], lambda r: {"status__exact": "open", "vulnerability": r["flag"]})
        _link(cases_list, cases["weekly"], lambda r: {
            "created_at__gte": r["week"].date().isoformat(),
            "created_at__lt": (r["week"] + datetime.timedelta(days=7)).date().isoformat()})
    _link("admin:committee_actionitem_changelist", figures.get("action_items") or [],
          lambda r: {"overdue": "yes", **({"owner_agency__id__exact": r["owner_agency_id"]}
                                         if r["owner_agency_id"] else {})})
    return {"dashboard": figures}
