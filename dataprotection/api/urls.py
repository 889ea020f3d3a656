from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("data-requests", views.DataRequestViewSet, basename="data-request")

urlpatterns = [
    *router.urls,
    path("people/<uuid:person_id>/export/", views.PersonExport.as_view(), name="person-export"),
]
