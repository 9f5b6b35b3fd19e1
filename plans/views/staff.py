"""Plan pages for staff: the queues of plans waiting for a planner, a clinician or a
commissioner, sign-off, and reviews."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
