from django.urls import path, re_path

from . import views

urlpatterns = [
    path("committees/", views.CommitteeListView.as_view(), name="committee-list"),
    path("committees/<uuid:pk>/", views.CommitteeDetailView.as_view(), name="committee-detail"),
    path("committees/<uuid:pk>/calendar-feeds/", views.CalendarFeedListView.as_view(), name="committee-feeds"),
    path("calendar-feeds/<int:pk>/", views.CalendarFeedDetailView.as_view(), name="calendar-feed-detail"),
    re_path(r"^calendars/(?P<secret>[A-Za-z0-9_-]{1,100})\.ics$", views.CalendarFeedView.as_view(),
            name="calendar-feed-ics"),
    path("meetings/", views.MeetingListView.as_view(), name="meeting-list"),
    path("meetings/<uuid:pk>/", views.MeetingDetailView.as_view(), name="meeting-detail"),
    path("meetings/<uuid:pk>/schedule/", views.MeetingScheduleView.as_view(), name="meeting-schedule"),
    path("meetings/<uuid:pk>/cancel/", views.MeetingCancelView.as_view(), name="meeting-cancel"),
    path("meetings/<uuid:pk>/mark-held/", views.MeetingMarkHeldView.as_view(), name="meeting-mark-held"),
    path("meetings/<uuid:pk>/minutes/circulate/", views.MinutesCirculateView.as_view(), name="minutes-circulate"),
    path("meetings/<uuid:pk>/minutes/approve/", views.MinutesApproveView.as_view(), name="minutes-approve"),
    path("meetings/<uuid:pk>/attendance/", views.AttendanceView.as_view(), name="meeting-attendance"),
    path("meetings/<uuid:pk>/docket/", views.DocketView.as_view(), name="meeting-docket"),
    path("meetings/<uuid:pk>/calendar.ics", views.MeetingCalendarView.as_view(), name="meeting-calendar"),
    path("meetings/<uuid:pk>/agenda-items/", views.AgendaItemListView.as_view(), name="meeting-agenda"),
    path("meetings/<uuid:pk>/agenda-items/reorder/", views.AgendaReorderView.as_view(), name="agenda-reorder"),
    path("agenda-items/<uuid:pk>/", views.AgendaItemDetailView.as_view(), name="agenda-item-detail"),
    path("agenda-items/<uuid:pk>/defer/", views.AgendaItemDeferView.as_view(), name="agenda-item-defer"),
    path("agenda-items/<uuid:pk>/decisions/", views.DecisionCreateView.as_view(), name="agenda-item-decisions"),
    path("decisions/<uuid:pk>/", views.DecisionDetailView.as_view(), name="decision-detail"),
    path("action-items/", views.ActionItemListView.as_view(), name="action-item-list"),
    path("action-items/<uuid:pk>/", views.ActionItemDetailView.as_view(), name="action-item-detail"),
    path("action-items/<uuid:pk>/complete/", views.ActionItemCompleteView.as_view(), name="action-item-complete"),
    path("action-items/<uuid:pk>/cancel/", views.ActionItemCancelView.as_view(), name="action-item-cancel"),
]
