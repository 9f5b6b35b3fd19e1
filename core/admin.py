from django.contrib import admin
from django.http import HttpRequest

from core.models import AuditEvent, Notification


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
