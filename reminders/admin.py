"""The secretariat's view of reminders: the rules (edit, pause) and the log
of every reminder written, with a retry for the failed ones."""
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import Reminder, ReminderRule
from .services import reminder_rules_set_active, reminders_retry


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "deadline_kind", "timing", "offset", "recipients", "active", "updated_at"]
    list_filter = ["deadline_kind", "active", "recipients"]
    fields = ["deadline_kind", "timing", "offset", "recipients", "active", "created_at", "updated_at"]
    actions = ["pause", "resume"]

    def get_readonly_fields(self, request, obj=None):
        # Written reminders name their rule: a rule keeps the kind of deadline it was created for.
        return ["created_at", "updated_at", *(["deadline_kind"] if obj is not None else [])]

    def has_delete_permission(self, request, obj=None):
        return False  # the log refers to rules; pause one instead

    @admin.action(description=_("Pause the selected rules"), permissions=["change"])
    def pause(self, request, queryset):
        changed = reminder_rules_set_active(rule_ids=queryset.values_list("pk", flat=True), active=False)
        self.message_user(request, _("%(count)d rule(s) paused.") % {"count": changed}, messages.SUCCESS)

    @admin.action(description=_("Resume the selected rules"), permissions=["change"])
    def resume(self, request, queryset):
        changed = reminder_rules_set_active(rule_ids=queryset.values_list("pk", flat=True), active=True)
        self.message_user(request, _("%(count)d rule(s) resumed.") % {"count": changed}, messages.SUCCESS)


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "status", "rule", "target_label", "deadline", "email", "attempts", "sent_at"]
    list_filter = [
        "status",
        "rule",
        ("recipient_agency", admin.RelatedOnlyFieldListFilter),
        ("recipient_user", admin.RelatedOnlyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
        ("deadline", admin.DateFieldListFilter),
    ]
    search_fields = ["email", "target_label", "=target_id"]
    list_select_related = ["rule"]
    show_full_result_count = False  # the log grows large; counting it on every page is not worth it
    actions = ["retry"]
    fields = ["rule", "deadline_kind", "target_id", "target_label", "deadline", "due_at", "recipient_key",
              "recipient_agency", "recipient_user", "email", "status", "attempts", "last_error", "next_attempt_at",
              "claimed_until", "sent_at", "created_at", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retry the selected failed reminders"), permissions=["change"])
    def retry(self, request, queryset):
        retried = reminders_retry(reminder_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, _("%(count)d failed reminder(s) queued again.") % {"count": len(retried)},
                          messages.SUCCESS)
