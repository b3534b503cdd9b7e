from django.apps import AppConfig


def close_sockets_on_logout(sender, request, user, **kwargs):
    """Logging out also ends the live connections of that browser session."""
    from . import live

    if user is not None:
        live.access_changed(user.pk, logged_out_session=request.session.session_key)


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Slate studio"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        user_logged_out.connect(close_sockets_on_logout, dispatch_uid="slate-close-sockets")
