"""Pages of the reporting area: reports (see core/reporting/urls.py and
core/reporting/views_reports.py)."""

from django.urls import URLPattern, path

from core.reporting import views_reports as views

urlpatterns: list[URLPattern] = [
    path("reports/", views.report_list, name="report_list"),
    path("reports/print/", views.report_print, name="report_print"),
    path("reports/<uuid:public_id>/", views.report_job, name="report_job"),
    path("reports/<uuid:public_id>/status/", views.report_job_status, name="report_job_status"),
    path("reports/<uuid:public_id>/download/", views.report_download, name="report_download"),
]
