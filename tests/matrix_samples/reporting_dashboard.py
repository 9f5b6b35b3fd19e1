"""Samples for the dashboard pages and API (core/reporting/views_dashboard.py,
core/reporting/api/dashboard.py). The dashboard is an aggregate of the user's own
organisations, so every permitted user gets one of their own; none is record-scoped.
tests/reporting/test_dashboard_views.py pins what each sees."""

from __future__ import annotations

from tests.matrix_samples import Sample

SAMPLES: dict[str, Sample] = {
    "reporting:dashboard": Sample(),
    # Refreshing is a POST that redirects back to the dashboard.
    "reporting:dashboard_refresh": Sample(ok={302}, method="post"),
    "reporting:target_edit": Sample(),
    "api:dashboard": Sample(),
}
