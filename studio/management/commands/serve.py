"""Run the studio: the ASGI server (daphne) with the worker in the same process."""

from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.conf import settings
from django.core.management.base import BaseCommand

from studio.asgi import application
from studio.engine.worker import BackgroundWorker


class Command(BaseCommand):
    help = "Serve Slate (HTTP and websockets); in the embedded default, also run the worker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--worker-threads", type=int, default=1)

    def handle(self, *args, host, port, worker_threads, **options):
        worker = (
            BackgroundWorker(worker_threads).start() if settings.SLATE_EMBEDDED_WORKER else None
        )
        self.stdout.write(f"Slate is running at http://{host}:{port}/  (Ctrl-C to stop)")
        Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            websocket_timeout=86400,
            ping_interval=20,
            ping_timeout=30,
        ).run()
        if worker:
            worker.stop()
