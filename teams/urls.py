from django.contrib.auth import views as auth
from django.urls import path, reverse_lazy

from . import views

app_name = "teams"

FORM = "teams/account/form.html"
MESSAGE = "teams/account/message.html"

# Django's own password views, in the house style.
accounts = [
    path("account/", views.account, name="account"),
    path("account/notifications/", views.notification_preferences, name="notification_prefs"),
    path(
        "account/password/",
        auth.PasswordChangeView.as_view(
            template_name=FORM,
            success_url=reverse_lazy("teams:password_change_done"),
            extra_context={"button": "Change password"},
        ),
        name="password_change",
    ),
    path(
        "account/password/done/",
        auth.PasswordChangeDoneView.as_view(
            template_name=MESSAGE, extra_context={"message": "Your password has been changed."}
        ),
        name="password_change_done",
    ),
    path(
        "account/reset/",
        auth.PasswordResetView.as_view(
            template_name=FORM,
            email_template_name="teams/email/password_reset.txt",
            subject_template_name="teams/email/password_reset_subject.txt",
            success_url=reverse_lazy("teams:password_reset_done"),
            extra_context={
                "intro": "Give the email address of your account and we'll send a link "
                "to choose a new password.",
                "button": "Send the link",
            },
        ),
        name="password_reset",
    ),
    path(
        "account/reset/sent/",
        auth.PasswordResetDoneView.as_view(
            template_name=MESSAGE,
            extra_context={
                "message": "If an account has that address, a link to reset its password is "
                "on its way. Check your mail (and its spam folder)."
            },
        ),
        name="password_reset_done",
    ),
    path(
        "account/reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(
            template_name=FORM,
            success_url=reverse_lazy("teams:password_reset_complete"),
            extra_context={"button": "Set password"},
        ),
        name="password_reset_confirm",
    ),
    path(
        "account/reset/done/",
        auth.PasswordResetCompleteView.as_view(
            template_name=MESSAGE,
            extra_context={"message": "Your password is set. Log in with it now."},
        ),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    *accounts,
    path("notifications/", views.notifications_page, name="notifications"),
    path("notifications/read/", views.mark_all_read, name="notifications_read"),
    path("notifications/<int:notification_id>/", views.open_notification, name="notification"),
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
    path("w/<slug:slug>/budget/", views.budget_page, name="budget"),
    path("w/<slug:slug>/budget/save/", views.budget_save, name="budget_save"),
    path("w/<slug:slug>/budget/<int:member_id>/", views.member_cap, name="member_cap"),
    path("w/<slug:slug>/usage/", views.usage_page, name="usage"),
    path("w/<slug:slug>/usage.csv", views.usage_csv, name="usage_csv"),
    path("w/<slug:slug>/audit/", views.audit_log, name="audit"),
    path("w/<slug:slug>/audit.csv", views.audit_csv, name="audit_csv"),
]
