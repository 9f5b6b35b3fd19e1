"""The reporting area's API endpoints (names in the ``api`` namespace)."""

from core.reporting.api import urls_dashboard, urls_reports, urls_returns

urlpatterns = urls_dashboard.urlpatterns + urls_returns.urlpatterns + urls_reports.urlpatterns
