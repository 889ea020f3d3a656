from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import account_views

router = SimpleRouter()
router.register("agencies", account_views.AgencyViewSet, basename="agency")

urlpatterns = [
    path("me/", account_views.MeView.as_view(), name="me"),
    *router.urls,
    path("", include("cases.api.case_urls")),
    path("", include("cases.api.handoff_urls")),
]
