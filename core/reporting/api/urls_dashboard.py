"""API endpoints of the reporting area: dashboard (see core/reporting/api/urls.py)."""

from django.urls import URLPattern, path

from core.reporting.api.dashboard import DashboardFigures

urlpatterns: list[URLPattern] = [
    path("dashboard/", DashboardFigures.as_view(), name="dashboard"),
]
