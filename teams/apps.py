from django.apps import AppConfig
from django.db.models.signals import post_save, pre_save

from studio import signals


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = "Slate teams"

    def ready(self):
        # The studio and the library announce, teams tells people: connected once, here.
        # The receivers' modules need the models loaded, so they are imported now.
        from . import boards, notifications, reviews

        signals.take_ended.connect(boards.take_ended, dispatch_uid="teams-take-ended")
        signals.budget_alert.connect(notifications.budget_alert, dispatch_uid="teams-budget-alert")
        post_save.connect(
            reviews.client_comment_saved,
            sender="library.ClientComment",
            dispatch_uid="teams-client-comment",
        )
        review = {"sender": "library.Review", "dispatch_uid": "teams-review"}
        pre_save.connect(reviews.review_saving, **review)
        post_save.connect(reviews.review_saved, **review)
