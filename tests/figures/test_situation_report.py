"""The situation report of a meeting: JSON for members and the secretariat, a printable page and a PDF."""
import datetime

import pytest
from django.utils import timezone

from cases.models import Case
from cases.roles import Role
from committee.models import ActionItem
from figures.rollup import refresh
from tests.committee.factories import MeetingFactory, MembershipFactory
from tests.factories import UserFactory
from tests.pdf import pdf_facts
from tests.staff import sign_in_to_admin

pytestmark = pytest.mark.django_db


def _url(meeting):
    return f"/api/v1/meetings/{meeting.pk}/situation-report/"


@pytest.fixture
def meetings(dataset, committee_member, pe_agency):
    """A previous meeting ten days ago and this one tomorrow; five cases registered since the previous one."""
    now = timezone.now()
    previous = MeetingFactory(starts_at=now - datetime.timedelta(days=10), status="held")
    meeting = MeetingFactory(committee=previous.committee, starts_at=now + datetime.timedelta(days=1))
    MembershipFactory(committee=meeting.committee, user=committee_member)
    Case.objects.update(created_at=now - datetime.timedelta(days=30))
    recent = list(Case.objects.filter(border_point="arica_city", owner_agency__country="CL")[:6])
    Case.objects.filter(pk__in=[c.pk for c in recent]).update(created_at=now - datetime.timedelta(days=2))
    if dataset["source"] == "rollup":  # registration times rewritten behind the services' back: build it again
        refresh(rebuild=True)
    for index in range(6):
        done = index < 5
        ActionItem.objects.create(title=f"Tarea {index}", meeting=previous, owner_agency=pe_agency,
                                  due_at=now - datetime.timedelta(days=1),
                                  status="done" if done else "open", completed_at=now if done else None)
    return previous, meeting


class TestSituationReportApi:
    def test_it_gives_figures_since_the_previous_meeting_and_cumulative(self, client_for, committee_member,
                                                                        meetings):
        """Six new cases at Arica since the previous meeting; 44 in all; action items 5 done, 1 open (hidden)."""
        previous, meeting = meetings
        response = client_for(committee_member).get(_url(meeting))
        assert response.status_code == 200
        body = response.json()
        assert body["previous_meeting"] == str(previous.pk)
        assert body["since"] == previous.starts_at.isoformat()
        period = {row["border_point"]: row for row in body["period"]["new_by_border_point"]["rows"]}
        # Shown rounded down to a multiple of 5: 6 and 12, 44, 35, 7 and 6.
        assert period["arica_city"]["cases"] == 5 and period["arica_city"]["people"] == 10
        assert period["tacna_city"]["cases"] == 0
        assert body["period"]["new_by_border_point"]["total"]["cases"] == 5
        assert body["cumulative"]["new_by_border_point"]["total"]["cases"] == 40
        assert body["cumulative"]["open_by_border_point"]["total"]["cases"] == 35
        directions = {row["direction"]: row for row in body["cumulative"]["handoffs_by_direction"]["rows"]}
        assert directions["pe_to_cl"]["handoffs"] == 5 and directions["cl_to_pe"]["handoffs"] == 5
        assert directions["to_international"]["handoffs"] == 0
        items = {row["status"]: row for row in body["period"]["action_items"]["rows"]}
        assert items["done"]["action_items"] is None and items["open"]["action_items"] is None  # 1 and 5: 1 is small
        assert body["period"]["action_items"]["total"]["action_items"] == 5  # 6

    def test_every_figure_is_suppressed(self, client_for, secretariat, meetings):
        """No published count in the report is between 1 and 4."""
        body = client_for(secretariat).get(_url(meetings[1])).json()

        def counts(node):
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in {"cases", "people", "handoffs", "pending", "overdue", "action_items"} \
                            and not isinstance(value, dict):
                        yield value
                    else:
                        yield from counts(value)
            elif isinstance(node, list):
                for item in node:
                    yield from counts(item)

        published = [value for value in counts(body) if value is not None]
        assert published and not [value for value in published if 0 < value < 5]

    def test_others_get_the_404_of_the_meeting(self, client_for, pe_caseworker, meetings, db):
        """A caseworker, or a member of another committee, gets 404 as for the meeting itself."""
        stranger = UserFactory(username="otro.delegado", roles=[Role.COMMITTEE_MEMBER])
        for user in (pe_caseworker, stranger):
            response = client_for(user).get(_url(meetings[1]))
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"


class TestSituationReportAdmin:
    def test_the_printable_page_has_charts_in_the_language_asked(self, client, secretariat, meetings):
        """Spanish by default, English on ?lang=en; inline SVG, nothing from elsewhere."""
        sign_in_to_admin(client, secretariat)
        url = f"/admin/committee/meeting/{meetings[1].pk}/situation-report/"
        page = client.get(url).content.decode()
        assert "Informe de situación" in page and "<svg" in page
        assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "https://" not in page
        english = client.get(url, {"lang": "en"}).content.decode()
        assert "Situation report" in english and "New cases and people by border point" in english
        assert "Counted at " in english and "Contado el " in page  # when the figures were counted

    def test_the_pdf(self, client, secretariat, meetings):
        """A PDF document in the language asked, shown in the browser."""
        sign_in_to_admin(client, secretariat)
        response = client.get(f"/admin/committee/meeting/{meetings[1].pk}/situation-report/pdf/", {"lang": "en"})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("inline;")
        facts = pdf_facts(response.content)
        assert facts.language == "en" and facts.titles[-1] == f"Situation report — {meetings[1].title}"

    def test_a_caseworker_cannot_open_it(self, client, pe_caseworker, meetings):
        """Not staff: the admin sends them to log in; nothing is rendered."""
        sign_in_to_admin(client, pe_caseworker)
        response = client.get(f"/admin/committee/meeting/{meetings[1].pk}/situation-report/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
