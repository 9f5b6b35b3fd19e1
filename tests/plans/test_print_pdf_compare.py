"""The plan as a printable page, as a PDF, and two versions compared side by side."""

from __future__ import annotations

import html
import re
import zlib
from typing import Any

import pytest
from django.urls import reverse

from core.models import AuditEvent
from plans import services
from plans.document import Document, Entry, Section, plan_document
from plans.models import SupportPlan
from plans.pdf import document_pdf, pdf_text
from tests.plans.conftest import PlanWorld, fill_plan

pytestmark = pytest.mark.django_db

# What people type: an accent, a curly apostrophe and quotes, an en dash, £ and €.
NAME = "Si\u00e2n O\u2019Brien"
TYPED = "It\u2019s \u201chome\u201d \u2013 \u00a312.50 and 5\u20ac"


def _words(response: Any) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return html.unescape(re.sub(r"\s+", " ", text))


def _pdf_text_bytes(body: bytes) -> bytes:
    """Every content stream of the PDF, inflated: the text as the font encodes it."""
    out = b""
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S):
        try:
            out += zlib.decompress(match.group(1))
        except zlib.error:
            out += match.group(1)
    return out


@pytest.fixture
def plan(pw: PlanWorld) -> SupportPlan:
    holder = pw.world.holder_a.user
    draft = services.plan_start(budget=pw.world.budget_a, started_by=holder)
    return fill_plan(draft, holder, weekly_pence=250_00)


def _active_then_new_version(pw: PlanWorld, plan: SupportPlan) -> SupportPlan:
    holder = pw.world.holder_a.user
    services.plan_submit(plan=plan, submitted_by=holder, agree=True)
    services.plan_approve(plan=plan, approved_by=pw.clinician, step="clinician")
    return services.plan_start(budget=plan.budget, started_by=holder)


# Print ------------------------------------------------------------------------------------


def test_the_print_page_has_the_whole_plan_and_hides_the_service_chrome(pw, client_for, plan):
    response = client_for(pw.world.holder_a.user).get(reverse("plans:plan_print", args=[plan.pk]))
    assert response.status_code == 200
    words = _words(response)
    for heading in (
        "What matters to me",
        "What I want to achieve",
        "My support",
        "If things go wrong",
    ):
        assert heading in words
    assert "Walk to the park on my own" in words
    assert "£250.00" in words
    page = response.content.decode()
    assert '<div class="nhsuk-u-display-none-print"><header' in page.replace("\n", "")


def test_print_is_refused_to_strangers_and_audited_for_staff(pw, client_for, plan):
    url = reverse("plans:plan_print", args=[plan.pk])
    assert client_for(pw.world.holder_b.user).get(url).status_code == 404
    assert client_for(pw.clinician_y).get(url).status_code == 404
    assert client_for(pw.planner).get(url).status_code == 200
    assert AuditEvent.objects.filter(
        actor=pw.planner, action="personal_record.viewed", changes__page="support plan print"
    ).exists()


# PDF ---------------------------------------------------------------------------------------


def test_the_pdf_downloads_with_a_sensible_name(pw, client_for, plan):
    response = client_for(pw.world.holder_a.user).get(reverse("plans:plan_pdf", args=[plan.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="support-plan-alex-holder-version-1.pdf"'
    )
    body = response.content
    assert body.startswith(b"%PDF-")
    text = _pdf_text_bytes(body)
    assert b"Support plan for Alex Holder" in text
    assert b"Walk to the park on my own" in text
    assert b"\xa3250.00" in text  # £ in WinAnsiEncoding
    # The holder downloading their own plan is not an audit event.
    assert not AuditEvent.objects.filter(action="personal_record.viewed").exists()


def test_a_staff_download_of_the_pdf_is_audited(pw, client_for, plan):
    response = client_for(pw.clinician).get(reverse("plans:plan_pdf", args=[plan.pk]))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(
        actor=pw.clinician, action="personal_record.viewed", changes__page="support plan PDF"
    ).exists()


def test_strangers_cannot_download_the_pdf(pw, client_for, plan):
    url = reverse("plans:plan_pdf", args=[plan.pk])
    assert client_for(pw.world.holder_b.user).get(url).status_code == 404
    assert client_for(pw.clinician_y).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302  # to sign in


def test_the_pdf_draws_pounds_curly_quotes_and_accents_in_the_fonts_encoding():
    document = Document(
        title=f"Support plan for {NAME}",
        subtitle="Version 1: draft",
        sections=(
            Section(
                "what_matters",
                "What matters to me",
                (Entry("w", "In my own words", (("", TYPED),)),),
            ),
            Section("risks", "Risks", ()),
        ),
    )
    body = document_pdf(document)
    assert b"/Encoding /WinAnsiEncoding" in body
    text = _pdf_text_bytes(body)
    assert NAME.encode("cp1252") in text
    assert TYPED.encode("cp1252") in text
    assert b"Nothing recorded yet." in text


def test_characters_the_core_font_lacks_are_simplified_not_fatal():
    assert pdf_text("Dŵr ŷ café £5") == "Dwr y café £5"
    assert pdf_text("Smile 😀") == "Smile ?"
    body = document_pdf(Document("Plan for Zoë 😀", "Version 1", (Section("s", "Summary", ()),)))
    assert body.startswith(b"%PDF-")


def test_a_long_plan_runs_onto_more_pages(pw, plan):
    long = "A long answer about what matters. " * 400
    services.plan_update(plan=plan, updated_by=pw.world.holder_a.user, what_matters=long)
    plan.refresh_from_db()
    body = document_pdf(plan_document(plan))
    pages = int(re.search(rb"/Count (\d+)", body).group(1))  # type: ignore[union-attr]
    assert pages >= 3


# Comparing versions -------------------------------------------------------------------------


def test_a_plan_with_one_version_has_nothing_to_compare(pw, client_for, plan):
    response = client_for(pw.world.holder_a.user).get(reverse("plans:plan_compare", args=[plan.pk]))
    assert response.status_code == 200
    assert "nothing to compare yet" in _words(response)


def test_two_versions_side_by_side_with_changed_words_marked(pw, client_for, plan):
    holder = pw.world.holder_a.user
    v2 = _active_then_new_version(pw, plan)
    services.plan_update(
        plan=v2,
        updated_by=holder,
        what_matters="Being at home with my cat and seeing my grandchildren.",
    )
    services.outcome_save(plan=v2, saved_by=holder, goal="Join a choir")
    services.part_remove(plan=v2, removed_by=holder, part=v2.risks.get())
    response = client_for(holder).get(reverse("plans:plan_compare", args=[v2.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Version 1" in page
    assert "Version 2" in page
    assert (
        '<del><span class="nhsuk-u-visually-hidden">[removed: </span>dog'
        '<span class="nhsuk-u-visually-hidden">]</span></del>'
    ) in page
    assert (
        '<ins><span class="nhsuk-u-visually-hidden">[added: </span>cat'
        '<span class="nhsuk-u-visually-hidden">]</span></ins>'
    ) in page
    words = _words(response)
    assert "Join a choir Added" in words
    assert "I might fall on the way to the park Removed" in words
    assert "My circle of support (no change)" in words


def test_only_show_changes_hides_what_stayed_the_same(pw, client_for, plan):
    holder = pw.world.holder_a.user
    v2 = _active_then_new_version(pw, plan)
    services.outcome_save(plan=v2, saved_by=holder, goal="Join a choir")
    url = reverse("plans:plan_compare", args=[v2.pk])
    response = client_for(holder).get(url, {"old": plan.pk, "new": v2.pk, "only_changes": "on"})
    words = _words(response)
    assert "Join a choir Added" in words
    assert "My circle of support" not in words
    assert "Walk to the park on my own" not in words
    # Either order of choosing gives older on the left.
    swapped = _words(client_for(holder).get(url, {"old": v2.pk, "new": plan.pk}))
    assert "Comparing version 1 (active) with version 2 (draft)" in swapped


def test_choosing_the_same_version_twice_or_another_persons_plan_is_an_error(pw, client_for, plan):
    holder = pw.world.holder_a.user
    v2 = _active_then_new_version(pw, plan)
    url = reverse("plans:plan_compare", args=[v2.pk])
    response = client_for(holder).get(url, {"old": v2.pk, "new": v2.pk})
    assert response.status_code == 200
    assert "Choose two different versions" in _words(response)
    assert "<ins>" not in response.content.decode()
    other = services.plan_start(budget=pw.world.budget_b, started_by=pw.world.holder_b.user)
    response = client_for(holder).get(url, {"old": other.pk, "new": v2.pk})
    assert "Choose a version" in _words(response)
    assert "Bea Holder" not in _words(response)


def test_comparison_is_refused_to_strangers_and_audited_for_staff(pw, client_for, plan):
    url = reverse("plans:plan_compare", args=[plan.pk])
    assert client_for(pw.world.holder_b.user).get(url).status_code == 404
    assert client_for(pw.commissioner).get(url).status_code == 200
    assert AuditEvent.objects.filter(
        actor=pw.commissioner,
        action="personal_record.viewed",
        changes__page="support plan comparison",
    ).exists()
