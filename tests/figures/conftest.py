import datetime

import pytest
from django.utils import timezone

from cases.models import Case, Handoff
from figures.rollup import refresh
from tests.factories import CaseFactory, HandoffFactory


def _cases(owner, count, **fields) -> list[Case]:
    return [CaseFactory(owner_agency=owner, **fields) for _ in range(count)]


@pytest.fixture(params=["live", "rollup"])
def dataset(request, pe_agency, cl_agency):
    """A known set of cases and handoffs (see the module docstring of test_statistics_api),
    counted live and again from the statistics rollup: the answers must not change."""
    chacalluta = _cases(pe_agency, 8, border_point="chacalluta_santa_rosa", member_count=3)
    chacalluta += _cases(pe_agency, 4, border_point="chacalluta_santa_rosa", member_count=3,
                         vulnerable_family_with_children=True)
    _cases(pe_agency, 3, border_point="tacna_city", member_count=2)
    _cases(pe_agency, 8, border_point="arica_city", member_count=1, status="closed", closure_reason="resolved")
    cl_cases = _cases(cl_agency, 14, border_point="arica_city", member_count=2)
    cl_cases += _cases(cl_agency, 6, border_point="arica_city", member_count=2, vulnerable_unaccompanied_minor=True)
    _cases(cl_agency, 1, border_point="other", member_count=1, status="closed", closure_reason="resolved")

    now = timezone.now()
    hours = datetime.timedelta(hours=1)
    # Peru → Chile: two accepted referrals (Chile collaborates on those cases), five pending, two overdue.
    for case in chacalluta[:2]:
        handoff = HandoffFactory(case=case, kind="referral", to_agency=cl_agency, status="accepted")
        Handoff.objects.filter(pk=handoff.pk).update(responded_at=handoff.created_at + 10 * hours)
    for index, case in enumerate(chacalluta[2:7]):
        handoff = HandoffFactory(case=case, kind="referral", to_agency=cl_agency)
        if index < 2:
            Handoff.objects.filter(pk=handoff.pk).update(response_due=now - hours)
    # Chile → Peru: six rejected, answered after 4, 6, 8, 10, 12 and 20 hours.
    for case, after in zip(cl_cases, [4, 6, 8, 10, 12, 20], strict=False):
        handoff = HandoffFactory(case=case, kind="referral", to_agency=pe_agency, status="rejected",
                                 rejection_reason="no_capacity")
        Handoff.objects.filter(pk=handoff.pk).update(responded_at=handoff.created_at + after * hours)
    if request.param == "rollup":
        refresh()
    return {"chacalluta": chacalluta, "cl_cases": cl_cases, "source": request.param}
