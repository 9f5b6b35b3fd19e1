"""Budget holders. The foundation keeps only what people, roles and representation need;
the budgets issue adds NHS number, eligibility, budgets and the ledger."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class BudgetHolderQuerySet(models.QuerySet["BudgetHolder"]):
    def for_user(self, user: Any) -> BudgetHolderQuerySet:
        """The holder record itself, those the user currently represents, and those of
        the user's organisations."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        from users.models import Representation

        represented = Representation.objects.current().filter(representative=user)
        return self.filter(
            Q(user=user)
            | Q(pk__in=represented.values("holder_id"))
            | Q(organisation__memberships__user=user)
        ).distinct()


class BudgetHolder(models.Model):
    """A person with a personal health budget (or on the way to one)."""

    name = models.CharField(max_length=200)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="budget_holder",
        help_text="The person's own account, if they sign in themselves.",
    )
    organisation = models.ForeignKey(
        "users.Organisation",
        on_delete=models.PROTECT,
        related_name="budget_holders",
        help_text="The ICB responsible for this person's budget.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BudgetHolderQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
