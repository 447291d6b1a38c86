"""Control dashboards for agencies and supervisors, under ``/oversight/`` (login required)."""

from django.urls import path

from . import views

app_name = "oversight"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("agencies/<slug:code>/", views.agency_dashboard, name="agency"),
    path("agencies/<slug:code>/monthly-report/", views.monthly_report, name="monthly_report"),
    path("agencies/<slug:code>/plan/", views.propose_plan, name="propose"),
    path("plans/<int:pk>/<slug:action>/", views.plan_action, name="plan_action"),
    path("obligations/", views.obligation_status, name="obligations"),
    path("obligations/export/", views.obligations_export, name="obligations_export"),
    path("evaluation/", views.evaluation_round, name="evaluation"),
]
