from django.apps import AppConfig

from studio import signals


class StoryboardConfig(AppConfig):
    name = "storyboard"
    verbose_name = "Slate storyboards"

    def ready(self):
        # The studio announces a take's end; a board render whose last take it was finishes
        # (the rest of its reservation released) in that same transaction. The receiver's
        # module needs the models loaded, so it is imported now, not with this one.
        from . import renders

        signals.take_ended.connect(renders.take_ended, dispatch_uid="storyboard-take-ended")
