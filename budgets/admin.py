from django.contrib import admin

from budgets.models import BudgetHolder


@admin.register(BudgetHolder)
class BudgetHolderAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "user", "created_at"]
    list_filter = ["organisation"]
    search_fields = ["name", "user__email"]
    autocomplete_fields = ["user", "organisation"]
