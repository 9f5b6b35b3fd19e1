"""Samples for the outcome report pages (outcomes/views/reports.py). The report and its
downloads are aggregates of the user's own organisations, so every permitted user gets
one (of their own organisations); none is record-scoped. tests/outcomes/
test_report_views.py pins what each sees."""

from __future__ import annotations

from tests.matrix_samples import Sample

SAMPLES: dict[str, Sample] = {
    "outcomes:report": Sample(),
    "outcomes:report_csv": Sample(),
    "outcomes:report_xlsx": Sample(),
    "outcomes:reference_list": Sample(),
    "outcomes:reference_create": Sample(),
}
