"""Pages of the reporting area: returns (see core/reporting/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
