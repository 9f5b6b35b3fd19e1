from django.urls import path

from users import views

app_name = "users"
urlpatterns = [
    path("organisations/<int:organisation_id>/members/", views.member_list, name="member_list"),
    path(
        "organisations/<int:organisation_id>/members/invite/",
        views.member_invite,
        name="member_invite",
    ),
    path(
        "organisations/<int:organisation_id>/members/<int:membership_id>/",
        views.member_change,
        name="member_change",
    ),
    path(
        "organisations/<int:organisation_id>/members/<int:membership_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path(
        "organisations/<int:organisation_id>/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
