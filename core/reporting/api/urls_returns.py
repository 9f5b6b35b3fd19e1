"""API endpoints of the reporting area: returns (see core/reporting/api/urls.py)."""

from django.urls import URLPattern, path

from core.reporting.api import returns

urlpatterns: list[URLPattern] = [
    path("quarterly-returns/", returns.ReturnList.as_view(), name="quarterly_return_list"),
    path(
        "quarterly-returns/<int:pk>/",
        returns.ReturnDetail.as_view(),
        name="quarterly_return_detail",
    ),
    path(
        "quarterly-returns/<int:pk>/csv",
        returns.ReturnCsv.as_view(),
        name="quarterly_return_csv",
    ),
]
