"""The home page points each person at their support plan or the plans waiting for them."""

from __future__ import annotations

import html
import re
from typing import Any

from django.urls import reverse

from plans.models import SupportPlan
from tests.plans.conftest import PlanWorld


def _text(response: Any) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def test_a_holder_without_a_plan_is_offered_to_start_one(pw: PlanWorld, client_for: Any) -> None:
    page = _text(client_for(pw.world.holder_a.user).get(reverse("home")))
    assert "You have no support plan yet. You can start writing one" in page
    assert reverse("plans:plan_list") in page


def test_a_holder_sees_the_plan_in_force_and_its_next_review(
    pw: PlanWorld, client_for: Any, active_plan: SupportPlan
) -> None:
    page = _text(client_for(pw.world.holder_a.user).get(reverse("home")))
    assert f"Version {active_plan.version} of your plan is active." in page
    assert f"{active_plan.next_review_on:%-d %B %Y}" in page
    assert reverse("plans:plan_detail", args=[active_plan.pk]) in page


def test_sign_off_staff_get_a_link_to_the_plans_waiting(pw: PlanWorld, client_for: Any) -> None:
    queue = reverse("plans:queue")
    assert queue in _text(client_for(pw.clinician).get(reverse("home")))
    assert queue not in _text(client_for(pw.world.finance_officer).get(reverse("home")))
