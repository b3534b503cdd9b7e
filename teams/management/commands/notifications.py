"""Notifications from the shell: delete old ones (a cron job may run it; each new
notification already prunes its recipient's).

    manage.py notifications prune [--json]
"""

import json

from studio.management.cli import OneLineErrorsCommand
from teams import notifications


class Command(OneLineErrorsCommand):
    help = "Delete read notifications past the keep period and any older than a year."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        pruning = sub.add_parser("prune", help="delete old notifications")
        pruning.add_argument("--json", action="store_true", help="print one JSON object")
        pruning.error = lambda message: parser.error(message)

    def handle(self, *args, action, **options):
        deleted = notifications.prune()
        if options["json"]:
            self.stdout.write(json.dumps({"deleted": deleted}))
        else:
            self.stdout.write(f"Deleted {deleted} notification{'s' if deleted != 1 else ''}.")
