"""Pages of the quarterly PHB return: the list of an ICB's returns, one return's
figures and download history, the download itself and a rebuild.

Commissioners and finance officers only (the matrix), and only their own ICBs' returns:
records come through ``quarterly.returns_for_user``, so another ICB's return is a 404.
The file is served exactly as it was stored when the return was built."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.exports import CSV_TYPE
from core.reporting import quarterly
from core.reporting.models import QuarterlyReturn
from core.reporting.periods import Period, last_completed_quarter

PAGE_SIZE = 50


def _return(request: HttpRequest, pk: int) -> QuarterlyReturn:
    return get_object_or_404(quarterly.returns_for_user(request.user), pk=pk)


def _period(quarterly_return: QuarterlyReturn) -> Period:
    return Period(quarterly_return.financial_year, quarterly_return.quarter)


def return_list(request: HttpRequest) -> HttpResponse:
    returns = quarterly.returns_for_user(request.user)
    page = Paginator(returns, PAGE_SIZE).get_page(request.GET.get("page"))
    downloads = quarterly.downloads_of(page.object_list)
    icbs = list(quarterly.return_icbs_for_user(request.user))
    return render(
        request,
        "reporting/returns/return_list.html",
        {
            "page": page,
            "downloads": downloads,
            "icbs": icbs,
            "period": _period,
            "local": timezone.localtime,
            "next_quarter": last_completed_quarter(timezone.localdate()),
        },
    )


def return_detail(request: HttpRequest, pk: int) -> HttpResponse:
    quarterly_return = _return(request, pk)
    versions = quarterly.returns_for_user(request.user).filter(
        icb_id=quarterly_return.icb_id,
        financial_year=quarterly_return.financial_year,
        quarter=quarterly_return.quarter,
    )
    return render(
        request,
        "reporting/returns/return_detail.html",
        {
            "qr": quarterly_return,
            "period": _period(quarterly_return),
            "tables": quarterly.return_tables(quarterly_return),
            "downloads": quarterly.downloads_of([quarterly_return])[quarterly_return.pk],
            "versions": versions,
            "local": timezone.localtime,
        },
    )


def return_download(request: HttpRequest, pk: int) -> HttpResponse:
    quarterly_return = _return(request, pk)
    quarterly.quarterly_return_download(quarterly_return=quarterly_return, user=request.user)
    response = HttpResponse(quarterly_return.csv.encode("utf-8"), content_type=CSV_TYPE)
    filename = quarterly.return_filename(quarterly_return)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def return_rebuild(request: HttpRequest, pk: int) -> HttpResponse:
    quarterly_return = _return(request, pk)
    rebuilt = quarterly.quarterly_return_rebuild(quarterly_return=quarterly_return, by=request.user)
    messages.success(
        request,
        f"Version {rebuilt.version} of the {_period(rebuilt).label} return has been built "
        f"from today's records. Version {quarterly_return.version} is kept as it was.",
    )
    return redirect("reporting:return_detail", rebuilt.pk)
