from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from budgets.models import BudgetHolder
from core.services import personal_record_viewed


@admin.register(BudgetHolder)
class BudgetHolderAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "user", "created_at"]
    list_filter = ["organisation"]
    search_fields = ["name", "user__email"]
    autocomplete_fields = ["user", "organisation"]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        # Opening a person's record in the admin is a view of personal data like any other.
        holder = self.get_object(request, object_id)
        if holder is not None and request.method == "GET":
            personal_record_viewed(viewer=request.user, person=holder, what="admin")
        return super().change_view(request, object_id, form_url, extra_context)
