"""The money side of the platform, one module per part: holders, budgets and funding,
the ledger, allocation, monitoring and the Resource Allocation System."""

from budgets.models.allocation import AllocationRun
from budgets.models.budgets import (
    Budget,
    BudgetNotice,
    BudgetSettings,
    FundingContribution,
    FundingStream,
    ManagementOption,
    PaymentSchedule,
)
from budgets.models.holders import BudgetHolder, EligibilityRoute
from budgets.models.ledger import LedgerAccount, LedgerEntry, LedgerTransaction
from budgets.models.monitoring import MonitoringFlag, ReconciliationRun, SurplusRecovery
from budgets.models.ras import (
    RasAnswer,
    RasAssessment,
    RasBand,
    RasDomain,
    RasOption,
    RasQuestion,
    RasQuestionnaire,
)
from budgets.models.spending import Spend, SpendCategory, SpendQuery

__all__ = [
    "AllocationRun",
    "Budget",
    "BudgetHolder",
    "BudgetNotice",
    "BudgetSettings",
    "EligibilityRoute",
    "FundingContribution",
    "FundingStream",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "ManagementOption",
    "MonitoringFlag",
    "PaymentSchedule",
    "RasAnswer",
    "RasAssessment",
    "RasBand",
    "RasDomain",
    "RasOption",
    "RasQuestion",
    "RasQuestionnaire",
    "ReconciliationRun",
    "Spend",
    "SpendCategory",
    "SpendQuery",
    "SurplusRecovery",
]
