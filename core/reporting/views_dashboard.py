"""The commissioner dashboard: one page per organisation (or all of a user's together),
its filters as a GET form, "Refresh now", and the commissioner's spend target.

Commissioners and finance officers (BUDGET_MANAGERS in config/authorization.py) see the
dashboards of the organisations where they hold one of those roles; naming any other
organisation answers 404. Every figure comes from ``core.reporting.dashboard`` (the
snapshot tables) or, for outcomes, from ``outcomes.reports``; every figure links to
the records behind it where the user may open that list."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import resolve, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from markupsafe import Markup, escape

from budgets.ledger import format_pence
from core.authz import allows, request_principals, rule_for
from core.exceptions import Conflict
from core.reporting import dashboard as figures
from core.reporting.charts import Bar, bar_chart, percent_text, share_chart
from core.reporting.forms_dashboard import ALL, DashboardFilterForm, SpendTargetForm
from core.reporting.periods import Period
from core.reporting.targets import spend_target_set, target_organisations
from outcomes.charts import chart_description, outcome_chart
from users.models import Membership, Organisation, Role

DASHBOARD_ROLES = (Role.COMMISSIONER, Role.FINANCE_OFFICER)


def dashboard_organisations(user: Any) -> list[tuple[int, str]]:
    """The organisations whose dashboard the user may see, as (id, name), by name."""
    return [(pk, name) for pk, name, _ in _organisations_with_kind(user)]


def _organisations_with_kind(user: Any) -> list[tuple[int, str, str]]:
    if not getattr(user, "is_authenticated", False):
        return []
    seen: dict[int, tuple[int, str, str]] = {}
    for pk, name, kind in (
        Membership.objects.filter(user=user, role__in=DASHBOARD_ROLES)
        .order_by("organisation__name", "organisation_id")
        .values_list("organisation_id", "organisation__name", "organisation__kind")
    ):
        seen.setdefault(pk, (pk, name, kind))
    return list(seen.values())


def filter_form(data: Any, organisations: list[tuple[int, str]], run: Any) -> DashboardFilterForm:
    return DashboardFilterForm(
        data,
        organisations=organisations,
        periods=figures.periods_kept(run.today) if run else [],
        default_period=figures.default_period(run) if run else None,
        areas=figures.areas_present([pk for pk, _ in organisations], run) if run else [],
    )


class Links:
    """Where each figure leads: a URL if the user may open that list, else None. An
    admin list counts only if the user may view that model there (the admin opens
    some models to commissioners alone)."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.principals = request_principals(request)
        # A page has a few hundred links to a dozen lists: each list is checked and
        # reversed once.
        self._bases: dict[tuple[str, tuple[Any, ...]], str | None] = {}

    def _allowed(self, name: str) -> bool:
        rule = rule_for(name)
        if rule is None or not allows(rule, self.principals):
            return False
        model_admin = getattr(resolve(reverse(name)).func, "model_admin", None)
        if model_admin is not None:  # an admin list: opened to this user?
            return bool(model_admin.has_view_or_change_permission(self.request))
        return True

    def _base(self, name: str, args: tuple[Any, ...]) -> str | None:
        if (name, args) not in self._bases:
            allowed = self._allowed(name)
            self._bases[(name, args)] = reverse(name, args=args) if allowed else None
        return self._bases[(name, args)]

    def __call__(self, name: str, *args: Any, **query: Any) -> str | None:
        url = self._base(name, args)
        if url is None:
            return None
        kept = {k: v for k, v in query.items() if v not in (None, "")}
        return f"{url}?{urlencode(kept)}" if kept else url


def figure(text: Any, href: str | None, what: str) -> Markup:
    """A figure, linked to the records behind it when there is a list the user may
    open. ``what`` is read after the number by screen readers, so the link says what
    it opens. Python rather than a template macro, as the page has hundreds; every
    part is escaped (Markup.format would do the same, several times slower)."""
    if not href or text == 0:  # a count of none leads to an empty list
        return escape(text)
    return Markup(  # noqa: S704 - every part escaped
        f'<a href="{escape(href)}">{escape(text)}'
        f'<span class="nhsuk-u-visually-hidden"> {escape(what)}</span></a>'
    )


def table_cell(heading: str, value: Any, numeric: bool = False) -> Markup:
    """A responsive table cell, as ``includes/tables.html``'s ``cell``: the heading
    shows before the value on small screens."""
    kind = " nhsuk-table__cell--numeric" if numeric else ""
    return Markup(  # noqa: S704 - every part escaped
        f'<td class="nhsuk-table__cell{kind}" role="cell"><span class="nhsuk-table__heading" '
        f'aria-hidden="true">{escape(heading)} </span>{escape(value)}</td>'
    )


def _count(value: int) -> str:
    return f"{value:,}"


def _charts(d: figures.Dashboard, outcomes: Any) -> dict[str, Any]:
    people, money, market = d.people, d.money, d.market
    if people is None or money is None or market is None:
        return {}
    charts: dict[str, Any] = {
        "route": bar_chart(
            [Bar(r.label, r.figures.at_end, _count(r.figures.at_end)) for r in people.by_route],
            title="People with a budget at the end of the period, by eligibility route",
            description="One bar per eligibility route. The table below gives every figure.",
            id_prefix="chart-route",
        ),
        "option": bar_chart(
            [Bar(r.label, r.figures.at_end, _count(r.figures.at_end)) for r in people.by_option],
            title="People with a budget at the end of the period, by how it is managed",
            description="One bar per management option. The table below gives every figure.",
            id_prefix="chart-option",
        ),
        "stream": bar_chart(
            [
                Bar(r.label, r.figures.spent_pence, format_pence(r.figures.spent_pence))
                for r in money.by_stream
            ],
            title="Spent in the period, by funding stream",
            description="One bar per funding stream: money spent from budgets in the period "
            "(before refunds). The table below gives every figure.",
            id_prefix="chart-stream",
        ),
        "category": bar_chart(
            [
                Bar(r.label, r.figures.net_pence, format_pence(r.figures.net_pence))
                for r in money.by_category
            ],
            title="Spent in the period, by what it was spent on",
            description="One bar per spending category: spent less refunds. The table below "
            "gives every figure.",
            id_prefix="chart-category",
        ),
        "waiting": bar_chart(
            [Bar(r.label, r.figures.count, _count(r.figures.count)) for r in d.plans.waiting]
            if d.plans
            else [],
            title="Support plans at each step today",
            description="One bar per step a plan waits at. The table below gives how long "
            "they have waited.",
            id_prefix="chart-waiting",
        ),
        "kind": bar_chart(
            [Bar(r.label, r.figures, _count(r.figures)) for r in market.providers_by_kind],
            title="Providers listed, by kind",
            description="One bar per kind of provider. The table below gives every figure.",
            id_prefix="chart-kind",
        ),
    }
    if outcomes is not None:
        charts["outcomes"] = outcome_chart(
            outcomes.summary.areas,
            title="What has changed for budget holders",
            description=chart_description(outcomes.summary.areas),
            id_prefix="chart-outcomes",
        )
    charts["targets"] = [
        share_chart(
            share_basis_points=t.share_basis_points,
            target_basis_points=t.target_basis_points,
            title=f"{t.organisation}: share of relevant spend through personal budgets",
            description=f"{percent_text(t.share_basis_points)} of the relevant spend against "
            f"a target of {percent_text(t.target_basis_points)}.",
            id_prefix=f"chart-target-{t.organisation_id}",
        )
        if t.share_basis_points is not None
        else None
        for t in d.targets
    ]
    return charts


def _record_links(
    links: Links, filters: Any, today: Any, holder_org: dict[str, int]
) -> dict[str, Any]:
    """The links of the people figures and of the referral-to-plan figures to the
    records behind them in the admin (none without filters: there are no figures).

    ``people_link(group, key, measure, **extra)`` leads to the budgets of the people a
    figure counts: ``group`` is "" (all), "route", "option" or "age", ``key`` the row's,
    ``measure`` the column (at_end, active_now, new, ended or integrated); ``extra``
    narrows it further (one funder's integrated budgets)."""
    if filters is None:
        return {}
    # The period so far, as the admin's day filters take it.
    last_day = str(filters.period.ends_by(today))
    days = f"{filters.period.start}/{last_day}"
    by_measure = {
        "at_end": {"in_place": last_day},
        "active_now": {"in_place": days, "state__exact": "active"},
        "new": {"first_began": days},
        "ended": {"ended": days},
        "integrated": {"in_place": days, "funders": "several"},
    }

    def people_link(group: str, key: str, measure: str, **extra: Any) -> str | None:
        query: dict[str, Any] = {
            **extra,
            **holder_org,
            **by_measure[measure],
            "holder__eligibility_route__exact": key if group == "route" else filters.route,
            "managed": key if group == "option" else filters.option,
            "area": filters.area,
        }
        if group == "age":
            query["age_on"] = f"{key}:{last_day}"
        return links("admin:budgets_budget_changelist", **query)

    return {
        "people_link": people_link,
        # Each holder's first approved plan, approved in the period so far.
        "first_plans_link": links(
            "admin:plans_supportplan_changelist",
            first_approved=days,
            holder__eligibility_route__exact=filters.route,
            area=filters.area,
            **holder_org,
        ),
    }


def dashboard(request: HttpRequest) -> HttpResponse:
    with_kind = _organisations_with_kind(request.user)
    organisations = [(pk, name) for pk, name, _ in with_kind]
    if not organisations:
        raise PermissionDenied
    run = figures.latest_run()
    form = filter_form(request.GET or None, organisations, run)
    valid = form.is_valid() if form.is_bound else True
    if form.is_bound and "organisation" in form.errors:
        raise Http404("No such organisation among yours")
    if not form.is_bound:
        form.cleaned_data = {}
    names = dict(organisations)
    links = Links(request)
    context: dict[str, Any] = {
        "form": form,
        "run": run,
        "as_of": figures.as_of_text(run),
        "organisations": organisations,
        "several": len(organisations) > 1,
        "ALL": ALL,
        "pounds_text": format_pence,
        "percent_text": percent_text,
        "link": links,
        "num": figure,
        "td": table_cell,
        "valid": valid,
        "can_refresh": True,
        "can_set_target": {pk for pk, _ in target_organisations(request.user)},
    }
    if valid and run is not None:
        ids = form.organisation_ids()
        filters = form.filters()
        single = "" if form.combined else str(ids[0])
        kinds = {pk: kind for pk, _, kind in with_kind}
        # The admin lists' filter for the organisation's people: an ICB's holders, or
        # a council's (none when combined: the admin shows only the user's anyway).
        holder_org = (
            {}
            if form.combined
            else {
                "holder__organisation__id__exact"
                if kinds.get(ids[0]) == Organisation.Kind.ICB
                else "holder__council__id__exact": ids[0]
            }
        )
        d = figures.dashboard_figures(
            organisation_ids=ids, organisation_names=names, filters=filters, run=run
        )
        outcomes = (
            figures.outcomes_for(
                user=request.user, organisation_ids=ids, combined=d.combined, filters=filters
            )
            if filters
            else None
        )
        context.update(
            {
                "d": d,
                "filters": filters,
                "outcomes": outcomes,
                "charts": _charts(d, outcomes),
                "chosen": form.description(),
                "heading_name": "All your organisations" if d.combined else names.get(ids[0], ""),
                "single_id": None if d.combined else ids[0],
                "organisation_query": ALL if d.combined else str(ids[0]),
                "outcome_period": figures.outcome_period_code(filters.period) if filters else "",
                "basis": figures.basis_points,
                **_record_links(links, filters, run.today, holder_org),
                "route_links": lambda key: links(
                    "budgets:holder_list", organisation=single, route=key
                ),
                "holder_links": lambda key: links(
                    "budgets:holder_list",
                    organisation=single,
                    route=filters.route if filters else "",
                ),
            }
        )
    return render(request, "reporting/dashboard/dashboard.html", context)


@require_POST
def dashboard_refresh(request: HttpRequest) -> HttpResponse:
    """Ask for the snapshots to be rebuilt now (commissioners and finance officers)."""
    if not dashboard_organisations(request.user):
        raise PermissionDenied
    from core.reporting.tasks import snapshot_refresh_request

    try:
        snapshot_refresh_request(user=request.user)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            "The figures are being worked out again. This takes a few minutes: "
            "reload this page later to see them.",
        )
    organisation = request.POST.get("organisation", "")
    query = urlencode({"organisation": organisation}) if organisation else ""
    return redirect(reverse("reporting:dashboard") + (f"?{query}" if query else ""))


def target_edit(request: HttpRequest) -> HttpResponse:
    """A commissioner sets the organisation's relevant spend and target share for a
    financial year. Another organisation answers 404."""
    mine = dict(target_organisations(request.user))
    if not mine:
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    raw_org = source.get("organisation", "")
    organisation_id = int(raw_org) if raw_org.isdigit() else next(iter(mine))
    if organisation_id not in mine:
        raise Http404("No such organisation among yours")
    run = figures.latest_run()
    today = run.today if run else timezone.localdate()
    default_year = Period.year_of(today).financial_year
    raw_year = source.get("year", "")
    year = int(raw_year) if raw_year.isdigit() and 2000 <= int(raw_year) <= 2100 else default_year
    from core.reporting.models import SpendTarget

    existing = SpendTarget.objects.filter(
        organisation_id=organisation_id, financial_year=year
    ).first()
    status = 200
    if request.method == "POST":
        form = SpendTargetForm(request.POST)
        if form.is_valid():
            try:
                spend_target_set(
                    user=request.user,
                    organisation_id=organisation_id,
                    financial_year=year,
                    relevant_spend_pence=form.cleaned_data["relevant_spend"],
                    target_basis_points=form.cleaned_data["target_percent"],
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    name = {
                        "relevant_spend_pence": "relevant_spend",
                        "target_basis_points": "target_percent",
                    }.get(field)
                    for message in errors:
                        form.add_error(name, message)
            else:
                messages.success(
                    request,
                    f"The target for {mine[organisation_id]} in {Period(year).year_label} "
                    "is saved.",
                )
                return redirect(
                    reverse("reporting:dashboard")
                    + "?"
                    + urlencode({"organisation": organisation_id, "period": str(year)})
                )
        status = 400
    else:
        initial = {}
        if existing:
            pounds, pence = divmod(existing.relevant_spend_pence, 100)
            initial = {
                "relevant_spend": f"{pounds:,}" + (f".{pence:02d}" if pence else ""),
                "target_percent": percent_text(existing.target_basis_points).removesuffix("%"),
            }
        form = SpendTargetForm(initial=initial)
    return render(
        request,
        "reporting/dashboard/target_edit.html",
        {
            "form": form,
            "organisation_id": organisation_id,
            "organisation_name": mine[organisation_id],
            "year": year,
            "year_label": Period(year).year_label,
            "existing": existing,
            "pounds_text": format_pence,
            "percent_text": percent_text,
        },
        status=status,
    )
