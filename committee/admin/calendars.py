"""Each person's secret calendar addresses."""
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from committee import services
from committee.models import CalendarFeed
from committee.selectors import can_manage, committees_visible_to

from .common import run_each


class CalendarFeedForm(forms.ModelForm):
    class Meta:
        model = CalendarFeed
        fields = ["committee"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Each person's secret calendar addresses. Adding one makes it for
    yourself and shows the address once."""

    form = CalendarFeedForm
    list_display = ["prefix", "committee", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["committee", ("revoked_at", admin.EmptyFieldListFilter)]
    actions = ["revoke_selected"]

    def get_queryset(self, request):
        feeds = CalendarFeed.objects.select_related("user", "committee")
        return feeds if can_manage(request.user) else feeds.filter(user=request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "committee":
            kwargs["queryset"] = committees_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so the record of its use stays

    def has_revoke_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def save_model(self, request, obj, form, change):
        feed, secret = services.calendar_feed_create(user=request.user, committee=form.cleaned_data["committee"])
        obj.pk = feed.pk
        obj._state.adding = False
        obj.refresh_from_db()
        url = settings.PUBLIC_BASE_URL + reverse("v1:calendar-feed-ics", kwargs={"secret": secret})
        messages.warning(request, _("Your calendar address (copy it now, it is not shown again): %(url)s") % {
            "url": url})

    @admin.action(description=_("Revoke the selected calendar feeds"), permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        run_each(self, request, services.calendar_feed_revoke, queryset, _("%(count)d feed(s) revoked."))

    service_arg = "feed"
