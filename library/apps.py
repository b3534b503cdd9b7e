from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "library"
    verbose_name = "Slate library"

    def ready(self) -> None:
        from studio.engine import sweep

        from . import trash

        # The worker's sweeper purges what has sat in the trash past SLATE_TRASH_DAYS.
        sweep.register_housekeeping("trash purge", trash.purge_overdue)
