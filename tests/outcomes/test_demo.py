"""The demo outcomes (outcomes/demo.py): enough answers for North Example's report to
show figures, surveys waiting for Alex Morgan and their carer, an improvement action
recorded through the services; and loading the demo twice changes nothing."""

from __future__ import annotations

from typing import Any

from core.models import AuditEvent
from outcomes.demo import demo_carer_survey_link
from outcomes.links import invitation_from_token
from outcomes.models import (
    ImprovementAction,
    RespondentKind,
    SurveyInvitation,
    SurveyResponse,
)
from outcomes.reports import ReportFilter, outcome_summary
from users.models import Organisation


def _load(settings: Any) -> None:
    from core.demo import load_demo_data

    settings.DEMO_PASSWORD = "demo-password-123"
    settings.DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    load_demo_data()


def test_the_demo_report_shows_figures_and_the_demo_loads_once(db: Any, settings: Any) -> None:
    _load(settings)
    icb = Organisation.objects.get(name="NHS North Example ICB")
    counts = {
        kind: SurveyResponse.objects.submitted().filter(respondent_kind=kind).count()
        for kind in RespondentKind.values
    }
    assert counts == {"holder": 60, "carer": 24, "staff": 30}

    summary = outcome_summary(ReportFilter(organisation_ids=frozenset({icb.pk})))
    shown = {a.area for a in summary.areas if not a.suppressed}
    assert "quality_of_life" in shown

    alex_waiting = SurveyInvitation.objects.answerable().filter(holder__name="Alex Morgan")
    assert alex_waiting.count() == 2
    link = demo_carer_survey_link()
    assert link is not None
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert invitation_from_token(token).respondent_kind == RespondentKind.CARER

    assert ImprovementAction.objects.open().filter(issue__organisation=icb).count() == 1
    events = AuditEvent.objects.count()
    _load(settings)
    assert SurveyResponse.objects.count() == sum(counts.values())
    assert SurveyInvitation.objects.count() == 2
    assert ImprovementAction.objects.count() == 1
    assert AuditEvent.objects.count() == events
