from django.urls import path

from . import case_views as views

urlpatterns = [
    path("cases/", views.CaseList.as_view(), name="case-list"),
    path("cases/<uuid:case_id>/", views.CaseDetail.as_view(), name="case-detail"),
    path("cases/<uuid:case_id>/close/", views.CaseClose.as_view(), name="case-close"),
    path("cases/<uuid:case_id>/reopen/", views.CaseReopen.as_view(), name="case-reopen"),
    path("cases/<uuid:case_id>/members/", views.CaseMembers.as_view(), name="case-members"),
    path("cases/<uuid:case_id>/members/<uuid:person_id>/", views.CaseMemberDetail.as_view(),
         name="case-member-detail"),
    path("cases/<uuid:case_id>/notes/", views.CaseNotes.as_view(), name="case-notes"),
    path("cases/<uuid:case_id>/consents/", views.CaseConsents.as_view(), name="case-consents"),
    path("cases/<uuid:case_id>/consents/<uuid:consent_id>/withdraw/", views.ConsentWithdraw.as_view(),
         name="case-consent-withdraw"),
    path("cases/<uuid:case_id>/history/", views.CaseHistory.as_view(), name="case-history"),
    path("people/<uuid:person_id>/", views.PersonDetail.as_view(), name="person-detail"),
]
