"""The dashboard's outcome figures come from the outcome reports with the dashboard's
period, route and management option passed through, and small groups stay hidden:
checked against the answers as they were recorded."""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import Client
from django.utils import timezone

from core.reporting.models import SnapshotRun
from core.reporting.periods import Period
from outcomes.models import BETTER, WORSE
from tests.outcomes.test_report_views import make_answers

pytestmark = pytest.mark.django_db


def _run() -> None:
    now = timezone.now()
    SnapshotRun.objects.create(
        status=SnapshotRun.Status.DONE,
        trigger=SnapshotRun.Trigger.SCHEDULED,
        as_of=now,
        today=timezone.localdate(),
        finished_at=now,
    )


def _physical_health(client: Client, **query: str) -> dict:
    body = client.get("/api/v1/dashboard/", query).json()
    return next(a for a in body["outcomes"]["areas"] if a["area"] == "physical_health")


def _expected(records: list, period: Period, **match: str) -> Counter:
    counted: Counter = Counter()
    for r in records:
        if not period.start <= r.on <= period.end:
            continue
        if any(getattr(r, name) != value for name, value in match.items()):
            continue
        change = "better" if r.change in BETTER else "worse" if r.change in WORSE else "same"
        counted[change] += 1
    return counted


def test_outcome_figures_follow_the_filters_and_hide_small_groups(world, client_for) -> None:
    records = make_answers(world)
    _run()
    client = client_for(world.commissioner)
    periods = {Period.year_of(r.on) for r in records}
    shown_somewhere = False
    for period in periods:
        expected = _expected(records, period)
        shown = _physical_health(client, period=period.key)
        n = sum(expected.values())
        if n >= 5:
            shown_somewhere = True
            assert not shown["suppressed"]
            assert (shown["better"], shown["same"], shown["worse"], shown["n"]) == (
                expected["better"],
                expected["same"],
                expected["worse"],
                n,
            )
        else:
            assert shown["suppressed"]
            assert shown["n"] is None
    assert shown_somewhere, "the answers should give at least one period to show"
    # A route with fewer than 5 answers anywhere is never shown, whatever the period.
    for period in periods:
        shown = _physical_health(client, period=period.key, route="wheelchair")
        assert shown["suppressed"]
        assert shown["better"] is None
    # "Does not apply to me" is not counted: the family area has no answers to show.
    body = client.get("/api/v1/dashboard/").json()
    family = next(a for a in body["outcomes"]["areas"] if a["area"] == "family")
    assert family["suppressed"]


def test_the_page_shows_hidden_outcome_figures_as_words(world, client_for) -> None:
    make_answers(world)
    _run()
    page = client_for(world.commissioner).get("/dashboard/", {"route": "wheelchair"})
    text = page.content.decode()
    assert "No area of life has enough answers to show for these filters." in text
    assert "Fewer than 5 answers: not shown" in text
