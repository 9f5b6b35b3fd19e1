"""Pages of the reporting area: reports (see core/reporting/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
