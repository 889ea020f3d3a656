from django.urls import path
from rest_framework.routers import SimpleRouter

from . import handoff_views

router = SimpleRouter()
router.register("handoffs", handoff_views.HandoffViewSet, basename="handoff")

urlpatterns = [
    *router.urls,
    path("cases/<uuid:case_id>/handoffs/", handoff_views.CaseHandoffListView.as_view(), name="case-handoff-list"),
]
