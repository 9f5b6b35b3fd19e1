"""Pages of the reporting area: dashboard (see core/reporting/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
