"""The REST API, version 1, for partner systems and signed-in browsers."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from core.api.docs import api_docs
from users.api import views as users_api

app_name = "api"
urlpatterns = [
    path("me/", users_api.MeView.as_view(), name="me"),
    path("organisations/", users_api.OrganisationList.as_view(), name="organisation_list"),
    path(
        "organisations/<int:pk>/",
        users_api.OrganisationDetail.as_view(),
        name="organisation_detail",
    ),
    path(
        "organisations/<int:pk>/members/",
        users_api.MemberList.as_view(),
        name="organisation_members",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", api_docs, name="docs"),
]
