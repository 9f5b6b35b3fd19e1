"""Samples for the quarterly PHB return pages and API (core/reporting/views_returns.py,
core/reporting/api/returns.py). Each names a return of org X (an ICB): its
commissioner and finance officer own it; everyone else the matrix lets in gets 404."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.reporting.models import QuarterlyReturn
from core.reporting.periods import Period
from core.reporting.quarterly import LAYOUT, return_csv
from tests.matrix_samples import Sample

if TYPE_CHECKING:
    from tests.conftest import World

OWNERS = {"commissioner", "finance_officer"}


def _return(w: World) -> dict[str, Any]:
    quarter = Period(2025, 4)
    made = QuarterlyReturn.objects.create(
        icb=w.org_x,
        financial_year=quarter.financial_year,
        quarter=4,
        layout=LAYOUT,
        csv=return_csv(icb=w.org_x, quarter=quarter, figures={}),
    )
    return {"pk": made.pk}


def _owners(w: World) -> set[str]:
    return OWNERS


SAMPLES: dict[str, Sample] = {
    "reporting:return_list": Sample(),
    "reporting:return_detail": Sample(kwargs=_return, owners=_owners),
    "reporting:return_download": Sample(kwargs=_return, owners=_owners),
    "reporting:return_rebuild": Sample(kwargs=_return, owners=_owners, ok={302}, method="post"),
    "api:quarterly_return_list": Sample(),
    "api:quarterly_return_detail": Sample(kwargs=_return, owners=_owners),
    "api:quarterly_return_csv": Sample(kwargs=_return, owners=_owners),
}
