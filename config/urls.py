from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _

from api_core.exceptions import api_not_found
from api_core.views import healthz
from figures.admin_views import situation_report_page, situation_report_pdf

admin.site.site_header = _("Puente — Comité Binacional Perú–Chile")
admin.site.site_title = _("Puente")
admin.site.index_title = _("Binational migration cooperation committee")
admin.site.site_url = None  # there is no public site: the admin and the API are all there is

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include(("config.api_v1", "v1"), namespace="v1")),
    re_path(r"^api/", api_not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    # Passkey ceremonies of the admin sign-in (before the admin's catch-all).
    path("admin/passkeys/", include("signin.webauthn")),
    # The situation report of a meeting, beside the meeting's admin pages.
    path("admin/committee/meeting/<uuid:object_id>/situation-report/", admin.site.admin_view(situation_report_page),
         name="situation-report-page"),
    path("admin/committee/meeting/<uuid:object_id>/situation-report/pdf/", admin.site.admin_view(situation_report_pdf),
         name="situation-report-pdf"),
    path("admin/", admin.site.urls),
]

handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
