from django.urls import path

from . import views

urlpatterns = [
    path("statistics/cases/", views.CaseStatisticsView.as_view(), name="statistics-cases"),
    path("statistics/handoffs/", views.HandoffStatisticsView.as_view(), name="statistics-handoffs"),
    path("meetings/<uuid:pk>/situation-report/", views.SituationReportView.as_view(), name="situation-report"),
]
