from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from core.admin import AuditedViewsAdmin
from users.models import (
    Invitation,
    Membership,
    Organisation,
    PartnerApplication,
    Representation,
    User,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organisation"]


@admin.register(User)
class UserAdmin(AuditedViewsAdmin, DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_active", "memberships__role"]
    search_fields = ["email", "name"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "name", "password")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),
    )
    readonly_fields = ["last_login", "date_joined"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "ods_code"]
    list_filter = ["kind"]
    search_fields = ["name", "ods_code"]
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(AuditedViewsAdmin):
    list_display = ["email", "organisation", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role", "organisation"]
    search_fields = ["email"]
    readonly_fields = ["token", "created_at", "accepted_at", "revoked_at"]


@admin.register(Representation)
class RepresentationAdmin(AuditedViewsAdmin):
    list_display = ["representative", "holder", "kind", "starts_on", "ends_on", "authority"]
    list_filter = ["kind", "authority"]
    search_fields = ["representative__email", "representative__name", "holder__name"]
    autocomplete_fields = ["representative", "holder", "recorded_by"]


# oauth2_provider registers the application model with its own admin; ours shows the
# organisation and scopes.
admin.site.unregister(PartnerApplication)


@admin.register(PartnerApplication)
class PartnerApplicationAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "client_id", "authorization_grant_type", "scopes"]
    list_filter = ["organisation"]
    search_fields = ["name", "client_id"]
    autocomplete_fields = ["organisation", "user"]
