"""Outcome report pages: the report (filters as a GET form, a chart and table per view,
the national reference figures beside it, how the process relates to outcomes) and its
CSV and XLSX downloads; the list of national reference figures, and adding one.

Staff in a role that serves people (HOLDER_STAFF in config/authorization.py) read the
reports of their own organisations. Every figure comes from outcomes/reports.py, which
suppresses small groups itself, so these views cannot show one. A filter naming an
organisation the user is not in answers 404."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from core.exports import Cell, csv_download, download_filename, xlsx_download
from outcomes.charts import chart_description, outcome_chart
from outcomes.forms_reports import ReferenceFigureForm, ReportFilterForm
from outcomes.improvement import commissioner_organisations
from outcomes.models import ReferenceFigure, RespondentKind
from outcomes.reports import (
    AreaFigures,
    OutcomeSummary,
    ProcessRow,
    Share,
    outcome_summary,
    process_outcomes,
    reference_figure_create,
    reference_figures,
    report_organisation_ids,
)
from users.models import Membership, Role

KIND_PLURAL = {
    RespondentKind.HOLDER: "budget holders",
    RespondentKind.CARER: "family carers",
    RespondentKind.STAFF: "staff",
}


def _organisations(request: HttpRequest) -> list[tuple[int, str]]:
    from users.models import Organisation

    ids = report_organisation_ids(request.user)
    if not ids:
        raise PermissionDenied
    return list(Organisation.objects.filter(pk__in=ids).order_by("name").values_list("pk", "name"))


def _form(request: HttpRequest) -> ReportFilterForm:
    """The filters from the query string. Naming an organisation that is not the user's
    answers 404: the page never says anything about it."""
    form = ReportFilterForm(
        request.GET, organisations=_organisations(request), today=timezone.localdate()
    )
    form.is_valid()
    if "organisation" in form.errors:
        raise Http404("No such organisation among yours")
    return form


def _issue_link(request: HttpRequest, form: ReportFilterForm) -> str | None:
    """Where a commissioner records an issue found in this report (others cannot)."""
    if not commissioner_organisations(request.user).exists():
        return None
    base = reverse("outcomes:issue_create")
    if not form.is_valid():
        return base
    # The keys the improvement pages keep with an issue (outcomes/improvement.py).
    filters = form.report_filter()
    values = {
        "kind": filters.respondent_kind,
        "organisation": filters.organisation_id,
        "route": filters.eligibility_route,
        "management": filters.management_option,
        "band": filters.budget_band,
        "period_from": filters.date_from.isoformat() if filters.date_from else "",
        "period_to": filters.date_to.isoformat() if filters.date_to else "",
    }
    query = urlencode({k: v for k, v in values.items() if v not in (None, "")})
    return f"{base}?{query}"


def _reference_better(kind: str) -> tuple[dict[str, Decimal], dict[str, list[ReferenceFigure]]]:
    figures = reference_figures(kind)
    better = {
        area: next(f.better_percent for f in found if f.better_percent is not None)
        for area, found in figures.items()
        if any(f.better_percent is not None for f in found)
    }
    return better, figures


def report(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    context: dict[str, Any] = {"form": form, "issue_link": _issue_link(request, form)}
    if form.is_valid():
        filters = form.report_filter()
        summary = outcome_summary(filters, breakdown=form.chosen_breakdown)
        references, figures = _reference_better(filters.respondent_kind)
        whose = KIND_PLURAL[RespondentKind(filters.respondent_kind)]
        context.update(
            {
                "summary": summary,
                "process": process_outcomes(filters),
                "whose": whose,
                "chosen": form.description(),
                "query": form.query_string(),
                "references": references,
                "reference_list": [f for found in figures.values() for f in found],
                "chart": outcome_chart(
                    summary.areas,
                    references=references,
                    title=f"What has changed for {whose}",
                    description=chart_description(summary.areas),
                ),
                "kinds": [
                    (
                        kind,
                        KIND_PLURAL[RespondentKind(kind)].capitalize(),
                        form.query_string(kind=kind),
                    )
                    for kind in RespondentKind.values
                ],
            }
        )
    return render(request, "outcomes/reports/report.html", context)


HEADER = [
    "Whose answers",
    "Filters",
    "Group",
    "Outcome area",
    "Better",
    "Better %",
    "About the same",
    "About the same %",
    "Worse",
    "Worse %",
    "Answers (n)",
    "Note",
]
SUPPRESSED_NOTE = "Fewer than 5 answers: not shown"


def _figure_row(prefix: list[Cell], group: str, figures: AreaFigures) -> list[Cell]:
    if figures.suppressed:
        return [*prefix, group, figures.label, None, None, None, None, None, None, None,
                SUPPRESSED_NOTE]  # fmt: skip
    return [
        *prefix,
        group,
        figures.label,
        figures.better,
        figures.better_percent,
        figures.same,
        figures.same_percent,
        figures.worse,
        figures.worse_percent,
        figures.n,
        "",
    ]


def _share_row(prefix: list[Cell], group: str, label: str, share: Share) -> list[Cell]:
    if share.suppressed:
        return [*prefix, group, label, None, None, None, None, None, None, None, SUPPRESSED_NOTE]
    return [*prefix, group, label, share.better, share.better_percent,
            None, None, None, None, share.n, ""]  # fmt: skip


def _export_rows(
    form: ReportFilterForm, summary: OutcomeSummary, process: list[ProcessRow]
) -> list[list[Cell]]:
    whose = KIND_PLURAL[RespondentKind(summary.filters.respondent_kind)].capitalize()
    chosen = "; ".join(f"{label}: {value}" for label, value in form.description()) or "None"
    prefix: list[Cell] = [whose, chosen]
    rows = [_figure_row(prefix, "Everyone in the report", a) for a in summary.areas]
    for group in summary.groups:
        rows.extend(_figure_row(prefix, group.label, a) for a in group.areas)
    for row in process:
        for name, share in (
            ("Found the process easy", row.easy),
            ("Found the process hard", row.hard),
            ("Views included", row.included),
            ("Views not included", row.not_included),
        ):
            rows.append(_share_row(prefix, name, row.label, share))
    return rows


def _export(request: HttpRequest, extension: str) -> HttpResponse:
    form = _form(request)
    if not form.is_valid():
        raise Http404("These filters are not valid")
    filters = form.report_filter()
    summary = outcome_summary(filters, breakdown=form.chosen_breakdown)
    rows = _export_rows(form, summary, process_outcomes(filters))
    whose = KIND_PLURAL[RespondentKind(filters.respondent_kind)]
    filename = download_filename(f"outcomes {whose}", extension, on=timezone.localdate())
    if extension == "csv":
        return csv_download(HEADER, rows, filename=filename)
    return xlsx_download(HEADER, rows, filename=filename, sheet_title=f"Outcomes, {whose}")


def report_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, "csv")


def report_xlsx(request: HttpRequest) -> HttpResponse:
    return _export(request, "xlsx")


def reference_list(request: HttpRequest) -> HttpResponse:
    _organisations(request)
    figures = ReferenceFigure.objects.order_by("respondent_kind", "area", "-published_year", "pk")
    return render(
        request,
        "outcomes/reports/reference_list.html",
        {
            "figures": list(figures),
            "kind_plural": KIND_PLURAL,
            "can_add": Membership.objects.filter(
                user_id=request.user.pk or 0, role=Role.COMMISSIONER
            ).exists(),
        },
    )


def reference_create(request: HttpRequest) -> HttpResponse:
    form = ReferenceFigureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reference_figure_create(by=request.user, **form.cleaned_data)
        messages.success(request, "The reference figure has been added.")
        return redirect("outcomes:reference_list")
    return render(request, "outcomes/reports/reference_form.html", {"form": form})


urlpatterns = [
    path("outcomes/report/", report, name="report"),
    path("outcomes/report/download.csv", report_csv, name="report_csv"),
    path("outcomes/report/download.xlsx", report_xlsx, name="report_xlsx"),
    path("outcomes/reference-figures/", reference_list, name="reference_list"),
    path("outcomes/reference-figures/add/", reference_create, name="reference_create"),
]
