"""Scheduled allocation: each run posts every payment that has fallen due."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AllocationRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    as_of = models.DateField(help_text="Payments due on or before this date are posted.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    payments_posted = models.PositiveIntegerField(default=0)
    total_pence = models.BigIntegerField(default=0)
    budgets_paid = models.PositiveIntegerField(default=0)
    errors = models.TextField(blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the daily schedule started the run.",
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Allocation run {self.pk} for {self.as_of}"
