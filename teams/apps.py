from django.apps import AppConfig

from studio import signals


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = "Slate teams"

    def ready(self):
        # The studio announces, teams tells people: connected once, here. The receivers'
        # module needs the models loaded, so it is imported now, not with this one.
        from . import notifications

        signals.take_ended.connect(notifications.take_ended, dispatch_uid="teams-take-ended")
        signals.budget_alert.connect(notifications.budget_alert, dispatch_uid="teams-budget-alert")
