"""Pages of the reporting area: dashboard (see core/reporting/urls.py)."""

from django.urls import URLPattern, path

from core.reporting import views_dashboard as views

urlpatterns: list[URLPattern] = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/refresh/", views.dashboard_refresh, name="dashboard_refresh"),
    path("dashboard/target/", views.target_edit, name="target_edit"),
]
