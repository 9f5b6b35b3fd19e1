from django.contrib import admin
from django.http import HttpRequest

from budgets.models import BudgetHolder
from core.admin import AuditedViewsAdmin
from core.services import personal_record_viewed


@admin.register(BudgetHolder)
class BudgetHolderAdmin(AuditedViewsAdmin):
    list_display = ["name", "organisation", "user", "created_at"]
    list_filter = ["organisation"]
    search_fields = ["name", "user__email"]
    autocomplete_fields = ["user", "organisation"]

    def audit_view(self, request: HttpRequest, obj: BudgetHolder) -> None:  # type: ignore[override]
        personal_record_viewed(viewer=request.user, person=obj, what="admin")
