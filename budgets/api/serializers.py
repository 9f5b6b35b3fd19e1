"""What partner systems read and send about holders, budgets, the ledger and spending.

Money is integer pence in both directions; the input refuses anything that is not a JSON
integer (``12.5``, ``"1250"``, ``true``) rather than coercing it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from budgets.ledger import MAX_MOVEMENT_PENCE
from budgets.models import (
    AllocationRun,
    Budget,
    BudgetHolder,
    FundingContribution,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Spend,
    SpendCategory,
)

# Ids are bigint in Postgres: a larger number cannot name a record.
MAX_ID = 2**63 - 1


def _account_balance(contribution: FundingContribution) -> int:
    """The contribution's budget account's cached balance (0 before it has an account)."""
    try:
        account: LedgerAccount = contribution.account
    except LedgerAccount.DoesNotExist:
        return 0
    return account.balance_pence


class HolderSerializer(serializers.ModelSerializer):
    has_legal_right = serializers.BooleanField(
        read_only=True, help_text="Whether the eligibility route carries the legal right."
    )

    class Meta:
        model = BudgetHolder
        fields = [
            "id",
            "nhs_number",
            "name",
            "date_of_birth",
            "postcode",
            "eligibility_route",
            "has_legal_right",
            "status",
            "organisation",
            "council",
        ]
        read_only_fields = fields


class ContributionSerializer(serializers.ModelSerializer):
    funder_name = serializers.CharField(source="funder.name", read_only=True)
    balance_pence = serializers.SerializerMethodField(
        help_text="This part's budget account balance, in pence."
    )

    class Meta:
        model = FundingContribution
        fields = [
            "id",
            "funder",
            "funder_name",
            "stream",
            "yearly_pence",
            "management_option",
            "managed_by",
            "balance_pence",
        ]
        read_only_fields = fields

    def get_balance_pence(self, contribution: FundingContribution) -> int:
        return _account_balance(contribution)


# Expects ``contributions`` prefetched with their funder and account (see the views): the
# totals are summed from them, not queried per budget. (A comment, not a docstring:
# docstrings become the schema's descriptions.)
class BudgetSerializer(serializers.ModelSerializer):
    yearly_pence = serializers.SerializerMethodField(
        help_text="The year's amount from every funder, in pence."
    )
    balance_pence = serializers.SerializerMethodField(
        help_text="The sum of the budget's accounts' balances, in pence."
    )
    funding = ContributionSerializer(source="contributions", many=True, read_only=True)

    class Meta:
        model = Budget
        fields = [
            "id",
            "holder",
            "period_start",
            "period_end",
            "state",
            "payment_schedule",
            "indicative_pence",
            "yearly_pence",
            "balance_pence",
            "funding",
        ]
        read_only_fields = fields

    def get_yearly_pence(self, budget: Budget) -> int:
        return sum(c.yearly_pence for c in budget.contributions.all())

    def get_balance_pence(self, budget: Budget) -> int:
        return sum(_account_balance(c) for c in budget.contributions.all())


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerAccount
        fields = ["id", "kind", "name"]
        read_only_fields = fields


class EntrySerializer(serializers.ModelSerializer):
    account = AccountSerializer(read_only=True)

    class Meta:
        model = LedgerEntry
        fields = ["account", "amount_pence"]
        read_only_fields = fields


class TransactionSerializer(serializers.ModelSerializer):
    entries = EntrySerializer(many=True, read_only=True)

    class Meta:
        model = LedgerTransaction
        fields = [
            "id",
            "kind",
            "occurred_on",
            "due_on",
            "posted_at",
            "description",
            "contribution",
            "reverses",
            "entries",
        ]
        read_only_fields = fields


class AllocationRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = AllocationRun
        fields = [
            "id",
            "as_of",
            "status",
            "started_at",
            "finished_at",
            "payments_posted",
            "budgets_paid",
            "total_pence",
            "errors",
        ]
        read_only_fields = fields


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_MOVEMENT_PENCE})
class PenceField(serializers.IntegerField):
    """Whole pence as a JSON integer. DRF's IntegerField would take ``"1250"`` and
    ``12.0``; an amount of money sent as anything but an integer is refused."""

    default_error_messages = {
        "invalid": "Enter the amount in whole pence, as a whole number (1250 for £12.50).",
        "min_value": "The amount must be at least {min_value} pence.",
        "max_value": "The amount must be {max_value} pence or less.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_MOVEMENT_PENCE, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class SpendInputSerializer(serializers.Serializer):
    payee = serializers.CharField(max_length=200, help_text="Who was paid.")
    spent_on = serializers.DateField(help_text="The day the money was spent (not in the future).")
    amount_pence = PenceField(help_text="How much, in whole pence.")
    category = serializers.ChoiceField(choices=SpendCategory.choices)
    contribution = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Which funding it comes from (an id from the budget's `funding`); "
        "needed when the budget has more than one.",
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    plan_item = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="Which item of the budget's active support plan the spend pays for "
        "(optional; spending linked to none is flagged as outside the plan). The item "
        "must be paid from the spend's funding stream, or be free.",
    )


class SpendSerializer(serializers.ModelSerializer):
    class Meta:
        model = Spend
        fields = [
            "id",
            "budget",
            "contribution",
            "transaction",
            "payee",
            "spent_on",
            "amount_pence",
            "category",
            "note",
            "plan_item",
            "state",
            "recorded_at",
        ]
        read_only_fields = fields
