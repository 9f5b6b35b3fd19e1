"""API endpoints of the reporting area: returns (see core/reporting/api/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
