"""The admin: the secretariat edits and pauses rules, reads the reminder log
and retries failed reminders; nobody else gets in."""
import datetime

import pytest
import time_machine
from django.test import TestCase

from reminders.defaults import DEFAULT_RULES
from reminders.models import Reminder, ReminderRule, ReminderStatus
from reminders.services import reminders_sweep

from .conftest import DEADLINE

RULES = "/admin/reminders/reminderrule/"
LOG = "/admin/reminders/reminder/"


@pytest.fixture
def admin_client_for(client):
    def make(user):
        client.force_login(user)
        return client
    return make


@pytest.fixture
def reminders(rules, make_handoff, santiago_agency, lima_agency):
    """Three reminders, in this order: sent (to Santiago), failed (to Lima), pending (to Santiago)."""
    second = datetime.timedelta(seconds=1)
    make_handoff(response_due=DEADLINE - 2 * second)
    make_handoff(response_due=DEADLINE - second, to_agency=lima_agency, from_agency=santiago_agency)
    make_handoff()
    with time_machine.travel(DEADLINE, tick=False):
        created = reminders_sweep(enqueue=lambda ids: None).created
    rows = list(Reminder.objects.filter(pk__in=created).order_by("pk"))
    Reminder.objects.filter(pk=rows[0].pk).update(status=ReminderStatus.SENT, sent_at=DEADLINE, attempts=1)
    Reminder.objects.filter(pk=rows[1].pk).update(status=ReminderStatus.FAILED, attempts=6,
                                                  last_error="SMTPDataError: (451, b'Try again later')")
    return rows


@pytest.mark.django_db
class TestRuleAdmin:
    def test_the_secretariat_sees_the_rules(self, admin_client_for, secretariat, rules):
        response = admin_client_for(secretariat).get(RULES)
        assert response.status_code == 200
        assert response.context["cl"].result_count == ReminderRule.objects.count() == len(DEFAULT_RULES) == 10

    def test_the_secretariat_pauses_a_rule(self, admin_client_for, secretariat, rules):
        rule = rules[("handoff_response_due", "after")]
        response = admin_client_for(secretariat).post(RULES, {"action": "pause", "_selected_action": [rule.pk]})
        assert response.status_code == 302
        rule.refresh_from_db()
        assert rule.active is False
        assert ReminderRule.objects.filter(active=False).count() == 1

    def test_the_secretariat_resumes_a_rule(self, admin_client_for, secretariat, rules):
        rule = rules[("handoff_response_due", "at")]
        ReminderRule.objects.filter(pk=rule.pk).update(active=False)
        admin_client_for(secretariat).post(RULES, {"action": "resume", "_selected_action": [rule.pk]})
        rule.refresh_from_db()
        assert rule.active is True

    def test_the_secretariat_adds_a_rule(self, admin_client_for, secretariat, rules):
        response = admin_client_for(secretariat).post(f"{RULES}add/", {
            "deadline_kind": "handoff_response_due", "timing": "before", "offset": "2:00:00",
            "recipients": "sending_agency", "active": "on",
        })
        assert response.status_code == 302
        rule = ReminderRule.objects.get(recipients="sending_agency")
        assert (rule.timing, rule.offset) == ("before", datetime.timedelta(hours=2))

    @pytest.mark.parametrize("fields, error_field", [
        ({"timing": "before", "offset": "2:00:00", "recipients": "committee_members"}, "recipients"),
        ({"timing": "at", "offset": "1:00:00", "recipients": "sending_agency"}, "__all__"),
        ({"timing": "after", "offset": "0", "recipients": "sending_agency"}, "__all__"),
        ({"timing": "at", "offset": "0", "recipients": "receiving_agency"}, "__all__"),  # exists already
        # A cancellation is told when it happens, not a day before or after.
        ({"deadline_kind": "meeting_cancelled", "timing": "after", "offset": "2:00:00",
          "recipients": "secretariat"}, "timing"),
    ])
    def test_it_refuses_a_rule_that_makes_no_sense(self, admin_client_for, secretariat, rules, fields, error_field):
        response = admin_client_for(secretariat).post(f"{RULES}add/", {
            "deadline_kind": "handoff_response_due", "active": "on", **fields})
        assert response.status_code == 200
        assert error_field in response.context["adminform"].form.errors
        assert ReminderRule.objects.count() == len(DEFAULT_RULES)

    def test_rules_cannot_be_deleted(self, admin_client_for, secretariat, rules):
        rule = rules[("handoff_response_due", "at")]
        response = admin_client_for(secretariat).post(f"{RULES}{rule.pk}/delete/", {"post": "yes"})
        assert response.status_code == 403
        assert ReminderRule.objects.filter(pk=rule.pk).exists()

    def test_a_committee_member_cannot_see_the_rules(self, admin_client_for, committee_member, rules):
        assert admin_client_for(committee_member).get(RULES).status_code == 403


@pytest.mark.django_db
class TestReminderLog:
    def test_the_secretariat_reads_the_log(self, admin_client_for, secretariat, reminders,
                                           django_assert_max_num_queries):
        client = admin_client_for(secretariat)
        with django_assert_max_num_queries(12):
            response = client.get(LOG)
        assert response.status_code == 200
        assert [r.pk for r in response.context["cl"].result_list] == [r.pk for r in reversed(reminders)]
        assert "SMTPDataError" not in response.content.decode()  # errors are on the detail page

    @pytest.mark.parametrize("query, expected", [
        ("status__exact=failed", [1]),
        ("status__exact=sent", [0]),
    ])
    def test_it_filters(self, admin_client_for, secretariat, reminders, query, expected):
        response = admin_client_for(secretariat).get(f"{LOG}?{query}")
        assert response.status_code == 200
        assert [r.pk for r in response.context["cl"].result_list] == [reminders[i].pk for i in expected]

    def test_it_filters_by_recipient_rule_and_date(self, admin_client_for, secretariat, reminders, lima_agency):
        client = admin_client_for(secretariat)
        rule = reminders[0].rule_id
        by_agency = client.get(f"{LOG}?recipient_agency__id__exact={lima_agency.pk}")
        by_rule = client.get(f"{LOG}?rule__id__exact={rule}")
        created = reminders[0].created_at
        day = {"created_at__gte": (created - datetime.timedelta(hours=12)).isoformat(),
               "created_at__lt": (created + datetime.timedelta(hours=12)).isoformat()}
        by_date = client.get(LOG, day)
        next_day = client.get(LOG, {"created_at__gte": (created + datetime.timedelta(hours=12)).isoformat()})
        assert [r.pk for r in by_agency.context["cl"].result_list] == [reminders[1].pk]
        assert by_rule.context["cl"].result_count == 3
        assert by_date.context["cl"].result_count == 3
        assert next_day.context["cl"].result_count == 0

    def test_the_detail_shows_the_last_error_read_only(self, admin_client_for, secretariat, reminders):
        failed = reminders[1]
        client = admin_client_for(secretariat)
        response = client.get(f"{LOG}{failed.pk}/change/")
        assert response.status_code == 200
        assert "Try again later" in response.content.decode()
        client.post(f"{LOG}{failed.pk}/change/", {"status": "sent", "email": "x@example.org"})
        failed.refresh_from_db()
        assert (failed.status, failed.email) == (ReminderStatus.FAILED, "upe@tacna.example")

    def test_the_secretariat_retries_failed_reminders(self, admin_client_for, secretariat, reminders, monkeypatch):
        queued = []
        monkeypatch.setattr("reminders.services.queue_sends", queued.extend)  # what would go to the broker
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = admin_client_for(secretariat).post(LOG, {
                "action": "retry", "_selected_action": [r.pk for r in reminders]})
        assert response.status_code == 302
        assert queued == [reminders[1].pk]
        statuses = dict(Reminder.objects.values_list("pk", "status"))
        assert statuses == {reminders[0].pk: "sent", reminders[1].pk: "pending", reminders[2].pk: "pending"}
        assert Reminder.objects.get(pk=reminders[1].pk).attempts == 0

    def test_nobody_adds_or_deletes_log_rows(self, admin_client_for, secretariat, reminders):
        client = admin_client_for(secretariat)
        assert client.get(f"{LOG}add/").status_code == 403
        assert client.post(f"{LOG}{reminders[0].pk}/delete/", {"post": "yes"}).status_code == 403
        assert Reminder.objects.count() == 3

    @pytest.mark.parametrize("who", ["committee_member", "pe_caseworker"])
    def test_others_cannot_read_the_log(self, admin_client_for, reminders, request, who):
        user = request.getfixturevalue(who)
        user.is_staff = True
        user.save()
        assert admin_client_for(user).get(LOG).status_code == 403
