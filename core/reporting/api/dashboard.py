"""The dashboard's figures for partner systems (scope ``reports:read``) and for
commissioners and finance officers signed in: the same figures as the page, from the
same selector (``core.reporting.dashboard``), with the same filters as query
parameters. An application sees its own organisation's; a person the organisations
where they are a commissioner or finance officer (``organisation=all`` adds them up,
as the page's combined view does). Any other organisation, or a value that is not one
of the choices, answers 400 (problem+json)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.caller import caller_for
from core.reporting import dashboard as figures
from core.reporting.forms_dashboard import DashboardFilterForm
from core.reporting.views_dashboard import dashboard_organisations

READ = ("reports:read",)
PARAMETERS = [
    OpenApiParameter(
        "organisation",
        OpenApiTypes.STR,
        description="One of the caller's organisations (its id), or `all` for all of a "
        "person's organisations added up. Default: the first.",
    ),
    OpenApiParameter(
        "period",
        OpenApiTypes.STR,
        description="A financial year (`2026`: April 2026 to March 2027) or quarter "
        "(`2026Q1`) that the snapshots keep (this year and last). Default: this year.",
    ),
    OpenApiParameter("stream", OpenApiTypes.STR, description="A funding stream."),
    OpenApiParameter("route", OpenApiTypes.STR, description="An eligibility route."),
    OpenApiParameter("option", OpenApiTypes.STR, description="A management option, or `mixed`."),
    OpenApiParameter("area", OpenApiTypes.STR, description="A postcode area, such as `LS`."),
]


def _people(counts: Any) -> dict[str, int]:
    return asdict(counts)


def _payload(d: figures.Dashboard, outcomes: figures.Outcomes | None) -> dict[str, Any]:
    run = d.run
    body: dict[str, Any] = {
        "as_of": run.as_of.isoformat() if run else None,
        "today": run.today.isoformat() if run else None,
        "organisations": d.organisation_ids,
        "combined": d.combined,
        "filters": d.filters.as_dict() if d.filters else None,
        "people": None,
        "money": None,
        "plans": None,
        "market": None,
        "targets": [],
        "outcomes": None,
    }
    if d.people is None or d.money is None or d.plans is None or d.market is None:
        return body
    people, money, plans, market = d.people, d.money, d.plans, d.market
    body["people"] = {
        "total": _people(people.total),
        "by_route": {r.key: _people(r.figures) for r in people.by_route},
        "by_option": {r.key: _people(r.figures) for r in people.by_option},
        "by_age": {r.key: _people(r.figures) for r in people.by_age},
    }
    body["money"] = {
        "own": money.own.as_dict(),
        "by_stream": {r.key: r.figures.as_dict() for r in money.by_stream},
        "by_category": {
            r.key: {
                "spends": r.figures.spends,
                "spent_pence": r.figures.spent_pence,
                "refunded_pence": r.figures.refunded_pence,
            }
            for r in money.by_category
        },
        "integrated_shares": [asdict(s) for s in money.integrated_shares],
        "flags": {r.key: r.figures for r in money.flags},
        "recoveries": {
            r.key: {"count": r.figures[0], "amount_pence": r.figures[1]} for r in money.recoveries
        },
    }
    body["plans"] = {
        "waiting": {r.key: asdict(r.figures) for r in plans.waiting},
        "reviews_due": plans.reviews_due,
        "reviews_overdue": plans.reviews_overdue,
        "referral_to_plan": {
            "people": plans.referral_to_plan_count,
            "median_days": plans.referral_to_plan_median_days,
            "p90_days": plans.referral_to_plan_p90_days,
        },
    }
    body["market"] = {
        "providers": market.providers_total,
        "providers_by_kind": {r.key: r.figures for r in market.providers_by_kind},
        "providers_by_area": {r.key: r.figures for r in market.providers_by_area},
        "providers_user_led": market.providers_user_led,
        "providers_micro": market.providers_micro,
        "verification_queue": market.verification_queue,
        "verification_longest_days": market.verification_longest_days,
        "services_by_category": {r.key: r.figures[0] for r in market.services_by_category},
        "gaps": [r.key for r in market.gaps],
    }
    body["targets"] = [asdict(t) for t in d.targets]
    if outcomes is not None:
        body["outcomes"] = {
            "respondent_kind": "holder",
            "areas": [
                {
                    "area": a.area,
                    "label": a.label,
                    "suppressed": a.suppressed,
                    "n": a.n,
                    "better": a.better,
                    "same": a.same,
                    "worse": a.worse,
                    "better_percent": float(a.better_percent)
                    if a.better_percent is not None
                    else None,
                    "same_percent": float(a.same_percent) if a.same_percent is not None else None,
                    "worse_percent": float(a.worse_percent)
                    if a.worse_percent is not None
                    else None,
                }
                for a in outcomes.summary.areas
            ],
            "open_improvement_actions": len(outcomes.open_actions)
            if outcomes.open_actions is not None
            else None,
        }
    return body


class DashboardFigures(APIView):
    """Every dashboard figure (people and budgets, money, support plans, the market,
    the spend target and outcomes) as of the latest snapshot, for the caller's
    organisation(s), with the dashboard's filters. ``docs/dashboard.md`` defines each
    figure. Money is in pence; durations in days. Before the first snapshot, ``as_of``
    is null and so is every figure."""

    required_scopes = READ
    problem_statuses = (400,)

    @extend_schema(parameters=PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        caller = caller_for(request)
        if caller.application is not None:
            organisation = caller.application.organisation
            organisations = [(organisation.pk, organisation.name)]
            user = None
            scope: frozenset[int] | None = frozenset({organisation.pk})
        else:
            organisations = dashboard_organisations(caller.user)
            user, scope = caller.user, None
        if not organisations:
            raise exceptions.PermissionDenied
        run = figures.latest_run()
        query = {k: v for k, v in request.query_params.items() if k in PARAM_NAMES}
        unknown = sorted(set(request.query_params) - PARAM_NAMES - {"format"})
        if unknown:
            raise exceptions.ValidationError({name: ["Not a filter."] for name in unknown})
        form = DashboardFilterForm(
            query,
            organisations=organisations,
            periods=figures.periods_kept(run.today) if run else [],
            default_period=figures.default_period(run) if run else None,
            areas=figures.areas_present([pk for pk, _ in organisations], run) if run else [],
        )
        if not form.is_valid():
            if run is None and set(form.errors) == {"period"}:
                form.cleaned_data["period"] = ""
            else:
                raise exceptions.ValidationError(
                    {name: [str(e) for e in errors] for name, errors in form.errors.items()}
                )
        ids = form.organisation_ids()
        filters = form.filters()
        d = figures.dashboard_figures(
            organisation_ids=ids,
            organisation_names=dict(organisations),
            filters=filters,
            run=run,
        )
        outcomes = (
            figures.outcomes_for(
                user=user,
                organisation_ids=ids,
                combined=d.combined,
                filters=filters,
                scope=scope,
            )
            if run is not None and filters is not None
            else None
        )
        return Response(_payload(d, outcomes))


PARAM_NAMES = frozenset(p.name for p in PARAMETERS)
