from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.urls import include, path, reverse
from oauth2_provider import views as oauth2_views

from core import views as core_views


def admin_login(request):  # type: ignore[no-untyped-def]
    """The admin signs in through the same page as everyone else, MFA included."""
    target = request.GET.get("next", reverse("admin:index"))
    return redirect(f"{reverse('account_login')}?next={target}")


admin.site.login = login_not_required(admin_login)  # type: ignore[method-assign]
admin.site.site_header = "Personal health budgets administration"
admin.site.site_title = "Personal health budgets admin"
admin.site.index_title = "Records"

oauth2_patterns = (
    [
        path("token/", oauth2_views.TokenView.as_view(), name="token"),
        path("revoke_token/", oauth2_views.RevokeTokenView.as_view(), name="revoke-token"),
        path("introspect/", oauth2_views.IntrospectTokenView.as_view(), name="introspect"),
    ],
    "oauth2_provider",
)

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("", include("core.urls")),
    path("", include("users.urls")),
    path("", include("budgets.urls")),
    path("", include("plans.urls")),
    path("", include("marketplace.urls")),
    path("", include("outcomes.urls")),
    path("", include("core.reporting.urls")),
    path("oruk/", include("marketplace.oruk.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("config.api_router")),
    path("o/", include(oauth2_patterns)),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    urlpatterns.append(path("styleguide/", core_views.styleguide, name="styleguide"))

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
