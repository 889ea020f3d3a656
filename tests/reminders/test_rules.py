"""The default rules the data migration writes, and what a rule means."""
import datetime

import pytest
from django.apps import apps

from reminders.defaults import create_default_rules
from reminders.models import ReminderRule

H = datetime.timedelta(hours=1)


@pytest.mark.django_db
class TestDefaultRules:
    def test_they_are_the_agreed_ones(self, rules):
        found = {(r.deadline_kind, r.timing, r.offset, r.recipients, r.active) for r in ReminderRule.objects.all()}
        assert found == {
            ("handoff_response_due", "before", 24 * H, "receiving_agency", True),
            ("handoff_response_due", "at", 0 * H, "receiving_agency", True),
            ("handoff_response_due", "after", 24 * H, "secretariat", True),
            ("action_item_due", "before", 48 * H, "assignee", True),
            ("action_item_due", "at", 0 * H, "assignee", True),
            ("action_item_due", "after", 72 * H, "secretariat", True),
            ("meeting_start", "before", 48 * H, "committee_members", True),
            ("meeting_cancelled", "at", 0 * H, "committee_members", True),
            ("data_request_due", "before", 5 * 24 * H, "handling_agency", True),
            ("data_request_due", "before", 24 * H, "handling_agency", True),
        }

    def test_writing_them_again_changes_nothing(self, rules):
        paused = rules[("handoff_response_due", "at")]
        ReminderRule.objects.filter(pk=paused.pk).update(active=False)
        create_default_rules(apps)
        assert ReminderRule.objects.count() == 10
        assert ReminderRule.objects.get(pk=paused.pk).active is False

    def test_the_later_migration_adds_its_rule_alone(self, rules):
        """An installation that edited a default keeps its edit when the cancellation rule arrives."""
        ReminderRule.objects.filter(deadline_kind="meeting_cancelled").delete()
        edited = rules[("action_item_due", "before")]
        ReminderRule.objects.filter(pk=edited.pk).update(offset=24 * H)
        create_default_rules(apps, kinds={"meeting_cancelled"})
        assert ReminderRule.objects.count() == 10
        assert not ReminderRule.objects.filter(deadline_kind="action_item_due", offset=48 * H).exists()
        assert ReminderRule.objects.filter(deadline_kind="meeting_cancelled", timing="at").exists()

    def test_each_fires_at_its_offset_from_the_deadline(self, rules):
        assert rules[("handoff_response_due", "before")].delta == -24 * H
        assert rules[("handoff_response_due", "at")].delta == 0 * H
        assert rules[("action_item_due", "after")].delta == 72 * H
        assert rules[("meeting_start", "before")].delta == -48 * H

    def test_they_read_well_in_the_admin(self, rules):
        assert str(rules[("handoff_response_due", "before")]).startswith("Vencimiento de respuesta")
        assert "24 h" in str(rules[("handoff_response_due", "before")])
