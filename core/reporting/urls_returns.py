"""Pages of the reporting area: returns (see core/reporting/urls.py)."""

from django.urls import URLPattern, path

from core.reporting import views_returns as views

urlpatterns: list[URLPattern] = [
    path("reports/quarterly-returns/", views.return_list, name="return_list"),
    path("reports/quarterly-returns/<int:pk>/", views.return_detail, name="return_detail"),
    path(
        "reports/quarterly-returns/<int:pk>/download/",
        views.return_download,
        name="return_download",
    ),
    path(
        "reports/quarterly-returns/<int:pk>/rebuild/",
        views.return_rebuild,
        name="return_rebuild",
    ),
]
