from django.urls import path

from . import views

app_name = "teams"

urlpatterns = [
    path("invite/<str:token>/", views.invite, name="invite"),
    path("invite/<str:token>/join/", views.accept_invite, name="accept_invite"),
    path("invite/<str:token>/signup/", views.invite_signup, name="invite_signup"),
    path("w/<slug:slug>/members/", views.members_page, name="members"),
    path("w/<slug:slug>/members/invite/", views.create_link, name="create_link"),
    path("w/<slug:slug>/members/invite/email/", views.create_email_invite, name="email_invite"),
    path(
        "w/<slug:slug>/members/invite/<int:invite_id>/revoke/",
        views.revoke_invite,
        name="revoke_invite",
    ),
    path("w/<slug:slug>/members/leave/", views.leave, name="leave"),
    path("w/<slug:slug>/members/<int:member_id>/role/", views.change_role, name="change_role"),
    path(
        "w/<slug:slug>/members/<int:member_id>/remove/", views.remove_member, name="remove_member"
    ),
    path("w/<slug:slug>/members/<int:member_id>/transfer/", views.transfer, name="transfer"),
    path("w/<slug:slug>/settings/", views.workspace_settings, name="settings"),
]
