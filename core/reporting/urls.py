"""The reporting area's pages: the commissioner dashboard, the quarterly PHB return and
report downloads. Each part keeps its own URL list."""

from core.reporting import urls_dashboard, urls_reports, urls_returns

app_name = "reporting"
urlpatterns = urls_dashboard.urlpatterns + urls_returns.urlpatterns + urls_reports.urlpatterns
