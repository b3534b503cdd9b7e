from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "library"
    verbose_name = "Slate library"

    def ready(self) -> None:
        from studio import card_notes
        from studio.engine import sweep

        from . import reviews, trash

        # The worker's sweeper purges what has sat in the trash past SLATE_TRASH_DAYS.
        sweep.register_housekeeping("trash purge", trash.purge_overdue)
        # Studio cards show the members' average rating and the circle.
        card_notes.register(reviews.card_notes)
