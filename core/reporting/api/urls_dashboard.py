"""API endpoints of the reporting area: dashboard (see core/reporting/api/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
