from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest, HttpResponse

from core.models import AuditEvent, Notification
from core.services import audit_record


class AuditedViewsAdmin(admin.ModelAdmin):
    """An admin whose records hold personal data: opening one is an audit event."""

    def audit_view(self, request: HttpRequest, obj: models.Model) -> None:
        audit_record(actor=request.user, action="record.viewed", obj=obj, changes={"page": "admin"})

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if obj is not None and request.method == "GET":
            self.audit_view(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the database refuses changes to audit events anyway."""

    list_display = ["created_at", "actor_label", "action", "object_type", "object_id", "person"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "action", "object_id", "person__name", "request_id"]
    date_hierarchy = "created_at"
    list_select_related = ["person"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "subject", "read_at", "emailed_at"]
    search_fields = ["user__email", "subject"]
    readonly_fields = ["created_at", "read_at", "emailed_at"]
