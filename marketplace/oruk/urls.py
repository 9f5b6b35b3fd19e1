"""The Open Referral UK 3.0 feed, at /oruk/ (public, read-only)."""

from django.urls import URLPattern

app_name = "oruk"
urlpatterns: list[URLPattern] = []
