"""Reads for the finance and monitoring pages: the flags queue, allocation runs and the
payments they posted, surplus recoveries, and the nightly reconciliation, with the
words the pages use to describe them."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum

from budgets.ledger import format_pence
from budgets.models import (
    AllocationRun,
    Budget,
    FundingContribution,
    LedgerAccount,
    LedgerTransaction,
    MonitoringFlag,
    ReconciliationRun,
    SurplusRecovery,
)
from users.models import Membership, Role

OPEN_RECOVERY_STATES = (
    SurplusRecovery.State.NOTICE_SENT,
    SurplusRecovery.State.RECONSIDERATION_REQUESTED,
)


def is_finance(user: Any) -> bool:
    """A finance officer somewhere (what the "run now" and propose links need)."""
    return Membership.objects.filter(user=user, role=Role.FINANCE_OFFICER).exists()


def _date(value: str | None) -> str:
    if not value:
        return ""
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day:%-d %B %Y}"


def flag_details(flag: MonitoringFlag) -> str:
    """What the sweep found, in words, from the figures it kept in ``details``."""
    details = flag.details or {}
    if flag.kind == MonitoringFlag.Kind.SURPLUS:
        return (
            f"{format_pence(int(details.get('balance_pence', 0)))} unspent; threshold "
            f"{format_pence(int(details.get('threshold_pence', 0)))} "
            f"({details.get('weeks', 8)} weeks)"
        )
    if flag.kind == MonitoringFlag.Kind.RUNNING_OUT:
        words = (
            f"{format_pence(int(details.get('balance_pence', 0)))} left; "
            f"{format_pence(int(details.get('spent_last_56_days_pence', 0)))} spent in the "
            "last 8 weeks"
        )
        if details.get("next_payment_on"):
            words += f"; next payment {_date(details['next_payment_on'])}"
        return words
    if flag.kind == MonitoringFlag.Kind.LEDGER_MISMATCH:
        return (
            f"The kept balance was {format_pence(int(details.get('cached_pence', 0)))} but "
            f"its ledger entries add up to {format_pence(int(details.get('entries_pence', 0)))}"
        )
    last = details.get("last_spend_on")
    return f"No spending recorded in {details.get('days', 90)} days; " + (
        f"last spend {_date(last)}" if last else "nothing spent this budget year"
    )


def flag_queue(*, user: Any, kind: str = "", state: str = "") -> QuerySet[MonitoringFlag]:
    """Open and acknowledged flags for the holders of the user's organisations, oldest
    first, so the longest-waiting is dealt with first."""
    flags = MonitoringFlag.objects.for_user(user).unresolved()
    if kind:
        flags = flags.filter(kind=kind)
    if state:
        flags = flags.filter(state=state)
    return flags.select_related("budget__holder").order_by("raised_at", "pk")


def flags_for_user(*, user: Any) -> QuerySet[MonitoringFlag]:
    """Every flag (resolved too) the user may open."""
    return MonitoringFlag.objects.for_user(user).select_related(
        "budget__holder__organisation", "acknowledged_by", "resolved_by"
    )


def run_duration(run: AllocationRun) -> str:
    """How long a run took, in words ("2 minutes 5 seconds")."""
    if run.finished_at is None:
        return "Still running" if run.status == AllocationRun.Status.RUNNING else "Unknown"
    seconds = max(int((run.finished_at - run.started_at).total_seconds()), 0)
    if seconds < 1:
        return "Under a second"
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        f"{number} {unit}{'' if number == 1 else 's'}"
        for number, unit in ((hours, "hour"), (minutes, "minute"), (seconds, "second"))
        if number
    ]
    return " ".join(parts)


def allocation_runs() -> QuerySet[AllocationRun]:
    """Runs are platform-wide (one run pays every budget), newest first."""
    return AllocationRun.objects.select_related("triggered_by").order_by("-started_at", "-pk")


def allocation_run_payments(*, user: Any, run: AllocationRun) -> QuerySet[LedgerTransaction]:
    """The payments a run posted to budgets the user may see, each with its amount (the
    leg into the budget account)."""
    return (
        LedgerTransaction.objects.filter(
            allocation_run=run, budget__in=Budget.objects.for_user(user)
        )
        .select_related("budget__holder", "contribution__funder")
        .annotate(
            amount_pence=Sum(
                "entries__amount_pence",
                filter=Q(entries__account__kind=LedgerAccount.Kind.BUDGET),
            ),
            corrected=Exists(
                LedgerTransaction.objects.filter(
                    reverses=OuterRef("pk"), kind=LedgerTransaction.Kind.CORRECTION
                )
            ),
        )
        .order_by("budget__holder__name", "due_on", "pk")
    )


def transaction_entries(*, original: LedgerTransaction) -> list[Any]:
    return list(original.entries.select_related("account").order_by("pk"))


def correction_of(*, original: LedgerTransaction) -> LedgerTransaction | None:
    return original.reversals.filter(kind=LedgerTransaction.Kind.CORRECTION).first()


def recoveries(*, user: Any, state: str = "") -> QuerySet[SurplusRecovery]:
    found = SurplusRecovery.objects.for_user(user)
    if state:
        found = found.filter(state=state)
    return found.select_related("budget__holder", "contribution__funder").order_by(
        "-proposed_at", "-pk"
    )


def contributions_for(*, user: Any) -> QuerySet[FundingContribution]:
    """Funding of the budgets the user may see."""
    return FundingContribution.objects.filter(
        budget__in=Budget.objects.for_user(user)
    ).select_related("budget__holder__organisation", "funder", "account")


def recovery_in_progress(*, contribution: FundingContribution) -> SurplusRecovery | None:
    return contribution.recoveries.filter(state__in=OPEN_RECOVERY_STATES).first()


def surplus_flag_for(*, budget: Budget) -> MonitoringFlag | None:
    return budget.flags.unresolved().filter(kind=MonitoringFlag.Kind.SURPLUS).order_by("pk").first()


def reconciliation_runs() -> QuerySet[ReconciliationRun]:
    return ReconciliationRun.objects.order_by("-started_at", "-pk")


def mismatch_words(*, user: Any, mismatches: list[dict[str, Any]]) -> list[str]:
    """Each problem the reconciliation found, in words. The check is platform-wide, but
    an account's name carries the holder's name: it is shown only to those who may see
    that budget; others see the account's number."""
    account_ids = [m["account"] for m in mismatches if m.get("check") == "balance"]
    visible = set(
        LedgerAccount.objects.filter(
            pk__in=account_ids, budget__in=Budget.objects.for_user(user)
        ).values_list("pk", flat=True)
    )
    words = []
    for mismatch in mismatches:
        check = mismatch.get("check")
        if check == "balance":
            account = mismatch.get("account")
            name = (
                f"“{mismatch.get('name', '')}” (account {account})"
                if account in visible
                else f"Account {account}"
            )
            words.append(
                f"{name}: the kept balance is "
                f"{format_pence(int(mismatch.get('cached_pence', 0)))} but its entries add up "
                f"to {format_pence(int(mismatch.get('entries_pence', 0)))}"
            )
        elif check == "transaction":
            legs = int(mismatch.get("legs", 0))
            words.append(
                f"Transaction {mismatch.get('transaction')} has {legs} "
                f"{'entry' if legs == 1 else 'entries'} adding up to "
                f"{format_pence(int(mismatch.get('sum_pence', 0)))}, not £0.00"
            )
        elif check == "ledger_total":
            words.append(
                f"The whole ledger adds up to {format_pence(int(mismatch.get('sum_pence', 0)))}"
                ", not £0.00"
            )
        else:
            words.append(f"An unrecognised problem: {mismatch}")
    return words
