from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Slate studio"

    def ready(self):
        # Wiring that needs the models loaded: done once, here, and nowhere else.
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete, post_save

        from . import live, takes, tasks
        from .models import Membership

        takes.set_waker(tasks.wake)  # the lifecycle schedules work through the task queue
        user_logged_out.connect(live.close_sockets_on_logout, dispatch_uid="slate-close-sockets")
        for signal in (post_save, post_delete):
            signal.connect(live.membership_changed, sender=Membership, dispatch_uid=str(signal))
