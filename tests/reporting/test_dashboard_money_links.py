"""The dashboard's money-by-stream figures link to the admin lists of the records behind
them (budgets, payments in, spending, refunds, recoveries of that funding stream), and
each list holds exactly those records the user may see."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.urls import reverse

from budgets.models import Budget, BudgetHolder, LedgerTransaction, Spend
from tests.reporting.test_dashboard_figures import ds as ds
from tests.reporting.test_dashboard_views import signed_in

pytestmark = pytest.mark.django_db


def _links(page: str, name: str) -> dict[str, str]:
    """The stream each link of one admin list goes to: {stream: href}."""
    url = reverse(name)
    found = re.findall(rf'href="({re.escape(url)}\?[^"]*stream__exact=([a-z0-9_]+)[^"]*)"', page)
    return {stream: href for href, stream in found}


def _count(client: Any, href: str) -> int:
    response = client.get(html.unescape(href))
    assert response.status_code == 200
    return response.context_data["cl"].result_count


def test_money_by_stream_links_to_exactly_the_records_of_that_stream(ds) -> None:
    data, _run = ds
    user = data.users["finance_a"]
    client = signed_in(user)
    page = client.get("/dashboard/", {"organisation": data.icb_a.pk, "period": "2026"})
    text = page.content.decode()
    holders = BudgetHolder.objects.for_user(user)

    spends = _links(text, "admin:budgets_spend_changelist")
    streams = set(spends)
    assert streams, "the page should link spending by stream"
    for stream, href in spends.items():
        expected = Spend.objects.filter(budget__holder__in=holders, contribution__stream=stream)
        assert _count(client, href) == expected.count()

    budgets = _links(text, "admin:budgets_budget_changelist")
    assert streams <= set(budgets)
    for stream, href in budgets.items():
        expected = Budget.objects.filter(holder__in=holders, contributions__stream=stream)
        assert _count(client, href) == expected.distinct().count()

    ledger = reverse("admin:budgets_ledgertransaction_changelist")
    for kind in ("allocation", "refund", "recovery"):
        hrefs = re.findall(rf'href="({re.escape(ledger)}\?kind__exact={kind}[^"]+)"', text)
        assert hrefs
        for href in hrefs:
            stream = re.search(r"stream__exact=([a-z0-9_]+)", href).group(1)
            expected = LedgerTransaction.objects.filter(
                budget__holder__in=holders, kind=kind, contribution__stream=stream
            )
            assert _count(client, href) == expected.count()
