"""Reporting tables: the dashboard's snapshots, commissioners' targets, the quarterly
PHB return and report jobs.

The snapshot tables hold pre-computed aggregates ("cubes") that a scheduled job
(``core.reporting.snapshots.snapshot_refresh``) rebuilds in one transaction, so the
dashboard reads a few thousand small rows instead of the ledger. Each table's grain and
each measure's meaning are documented on the field: a dashboard figure is a sum over
the rows that match the filters, and ``docs/dashboard.md`` defines every figure.

Conventions shared by the cubes:

- ``organisation`` is the organisation whose dashboard the row belongs to: for people
  and plans, the holder's ICB and (for an integrated budget) the council, so a person
  is on both dashboards; for money, see ``MoneySnapshot``.
- ``period`` is a financial year ("2026" is April 2026 to March 2027) or a quarter of
  one ("2026Q1" is April to June 2026). Period rows are complete on their own: a
  year's row is not the sum of its quarters (a person in place in two quarters is one
  person in the year).
- ``route`` is the holder's eligibility route; ``option`` the budget's management
  option: the one option of all its contributions, or "mixed"; ``area`` the postcode
  area of the holder's postcode (the leading letters: "LS" for LS6 1AB); ``child``
  whether the holder was under 18 on the period's last day (or the snapshot day, for a
  period not yet over).
- ``stream``: a blank stream is the row for all streams (each person once); a row
  with a stream counts people whose budget has a contribution in that stream. So a
  filter on stream reads the stream's rows and no filter reads the blank ones, and
  no sum ever counts a person twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

PERIOD_MAX_LENGTH = 6
MIXED = "mixed"


class SnapshotRun(models.Model):
    """One rebuild of the dashboard snapshots. The dashboard shows the figures "as of"
    the latest finished run."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", "Nightly"
        ON_DEMAND = "on_demand", "On demand"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    as_of = models.DateTimeField(help_text="The moment the figures describe.")
    today = models.DateField(help_text="The day counted as today: the current period ends here.")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"Snapshot {self.as_of:%Y-%m-%d %H:%M} ({self.get_status_display()})"


# _SNAPSHOT_KEYS: the snapshot tables' organisation columns carry no foreign-key
# constraint. The rows are derived from records that already have theirs and are
# rebuilt whole by each refresh; checking millions of keys at every commit would only
# slow the refresh (measured in `make bench`).


class _Cube(models.Model):
    organisation = models.ForeignKey(
        "users.Organisation",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,  # derived rows, rebuilt whole: see _SNAPSHOT_KEYS below
    )
    period = models.CharField(max_length=PERIOD_MAX_LENGTH)
    route = models.CharField(max_length=32)
    option = models.CharField(max_length=16)
    area = models.CharField(max_length=2)
    child = models.BooleanField()
    stream = models.CharField(max_length=32, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.organisation_id} {self.period}"


class PeopleSnapshot(_Cube):
    """People with a personal health budget. Grain: organisation x period x route x
    option x area x child x stream. A person is attributed, for each period, to the
    latest of their budgets in place in that period. A budget is in place from the
    later of its start and the day it first became active, to the earliest of its
    end, the day it was closed and today."""

    in_period = models.PositiveIntegerField(
        default=0, help_text="People with a budget in place on any day of the period."
    )
    at_end = models.PositiveIntegerField(
        default=0,
        help_text="People with a budget in place on the period's last day (or today).",
    )
    active_now = models.PositiveIntegerField(
        default=0, help_text="People whose attributed budget is active today (current state)."
    )
    new = models.PositiveIntegerField(
        default=0, help_text="People whose first budget ever came into place in the period."
    )
    ended = models.PositiveIntegerField(
        default=0,
        help_text="People whose last budget in place in the period ended in it, with none "
        "in place on the period's last day.",
    )
    integrated = models.PositiveIntegerField(
        default=0,
        help_text="Of in_period: people whose attributed budget is funded by more than one "
        "organisation.",
    )

    class Meta:
        indexes = [models.Index(fields=["organisation", "period"], name="people_snap_org_period")]


class MoneySnapshot(_Cube):
    """Money of the budgets an organisation is part of. Grain: organisation x funder x
    period x route x option x area x child x stream x integrated. The organisation is
    the holder's ICB and council (as for people); ``funder`` is the organisation
    paying that contribution, so an organisation's own money is the rows where funder
    is itself, and an integrated budget's shares are its rows by funder.

    Flows (paid in, spent, refunded, recovered) are ledger movements on the
    contribution's budget account dated in the period. Allocated is the yearly amount
    of contributions whose budget year starts in the period's financial year (the same
    on a year's row and each of its quarters' rows)."""

    funder = models.ForeignKey(
        "users.Organisation",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,  # derived rows, rebuilt whole: see _SNAPSHOT_KEYS below
    )
    integrated = models.BooleanField(
        help_text="The contribution's budget is funded by more than one organisation."
    )
    contributions = models.PositiveIntegerField(default=0)
    allocated_pence = models.BigIntegerField(default=0)
    paid_in_pence = models.BigIntegerField(default=0)
    spent_pence = models.BigIntegerField(default=0, help_text="Spending, before refunds.")
    refunded_pence = models.BigIntegerField(default=0)
    recovered_pence = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organisation", "period"], name="money_snap_org_period")]


class SpendSnapshot(_Cube):
    """Spending by category: the organisation's own contributions (funder is the
    organisation), dated in the period. Grain: the cube's dimensions x category."""

    category = models.CharField(max_length=32)
    spends = models.PositiveIntegerField(default=0)
    spent_pence = models.BigIntegerField(default=0)
    refunded_pence = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organisation", "period"], name="spend_snap_org_period")]


class FigureSnapshot(models.Model):
    """Smaller figures that are not sums over the cubes' dimensions: plans waiting and
    for how long, reviews, referral-to-plan times, flags, recoveries and the market.
    ``section`` and ``measure`` name the figure; ``key`` breaks it down (a plan step, a
    flag kind, a provider kind); ``route`` and ``area`` are blank on the row for all
    routes or all areas (the figures here are not additive, so each filter value has
    its own row); ``period`` is blank for figures about today."""

    organisation = models.ForeignKey(
        "users.Organisation",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,  # derived rows, rebuilt whole: see _SNAPSHOT_KEYS below
    )
    section = models.CharField(max_length=16)
    measure = models.CharField(max_length=32)
    period = models.CharField(max_length=PERIOD_MAX_LENGTH, blank=True)
    route = models.CharField(max_length=32, blank=True)
    area = models.CharField(max_length=2, blank=True)
    key = models.CharField(max_length=64, blank=True)
    count = models.BigIntegerField(default=0)
    value = models.BigIntegerField(
        null=True, blank=True, help_text="An amount (pence) or a duration (days), by measure."
    )

    class Meta:
        indexes = [models.Index(fields=["organisation", "section"], name="figure_snap_org_section")]

    def __str__(self) -> str:
        return f"{self.section}.{self.measure} {self.key} {self.period}"


class SpendTarget(models.Model):
    """A commissioner's target for the share of the organisation's relevant spend that
    goes through personal budgets, for one financial year."""

    organisation = models.ForeignKey(
        "users.Organisation", on_delete=models.CASCADE, related_name="spend_targets"
    )
    financial_year = models.PositiveSmallIntegerField(help_text="2026 is April 2026 to March 2027.")
    relevant_spend_pence = models.BigIntegerField(
        help_text="The organisation's spend on the services personal budgets could fund."
    )
    target_basis_points = models.PositiveIntegerField(
        help_text="The target share, in hundredths of a percent (1250 is 12.5%)."
    )
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "financial_year"], name="spend_target_one_per_year"
            ),
            models.CheckConstraint(
                condition=Q(relevant_spend_pence__gt=0), name="spend_target_relevant_positive"
            ),
            models.CheckConstraint(
                condition=Q(target_basis_points__lte=10000), name="spend_target_at_most_all"
            ),
        ]

    def __str__(self) -> str:
        return f"Target for {self.organisation} in {self.financial_year}"


class QuarterlyReturn(models.Model):
    """One ICB's quarterly PHB return, as built (the CSV is kept exactly as it was
    first offered for download). A rebuild makes a new version; old ones stay."""

    icb = models.ForeignKey(
        "users.Organisation", on_delete=models.PROTECT, related_name="quarterly_returns"
    )
    financial_year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    version = models.PositiveSmallIntegerField(default=1)
    layout = models.CharField(max_length=16, help_text="The layout version of the CSV.")
    built_at = models.DateTimeField(auto_now_add=True)
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the scheduled job built it.",
    )
    csv = models.TextField()
    people_in_quarter = models.PositiveIntegerField(default=0)
    people_year_to_date = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-financial_year", "-quarter", "icb__name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["icb", "financial_year", "quarter", "version"],
                name="quarterly_return_version_unique",
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1) & Q(quarter__lte=4), name="quarterly_return_quarter"
            ),
        ]

    def __str__(self) -> str:
        year = f"{self.financial_year}/{(self.financial_year + 1) % 100:02d}"
        return f"{self.icb} {year} Q{self.quarter} (version {self.version})"


class QuarterlyReturnDownload(models.Model):
    """Who downloaded a return, and when: a person on the page or an application
    through the API."""

    quarterly_return = models.ForeignKey(
        QuarterlyReturn, on_delete=models.PROTECT, related_name="downloads"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    application = models.CharField(max_length=200, blank=True)
    downloaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-downloaded_at"]

    def __str__(self) -> str:
        return f"{self.quarterly_return} downloaded {self.downloaded_at:%Y-%m-%d %H:%M}"


class ReportJob(models.Model):
    """A report built in the background. The task updates ``progress`` as it works;
    the page polls it and offers the file when it is done."""

    class Kind(models.TextChoices):
        FINANCE_MONTHLY = "finance_monthly", "Monthly finance report"
        OUTCOMES = "outcomes", "Outcomes report"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Being built"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    public_id = models.UUIDField(unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    format = models.CharField(max_length=8, choices=Format.choices)
    organisation = models.ForeignKey(
        "users.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    params = models.JSONField(default=dict, help_text="The report's period and filters.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Per cent done.")
    progress_note = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    content = models.BinaryField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_job_progress")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"
