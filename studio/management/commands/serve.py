"""Run the studio: the ASGI server (daphne) with the worker in the same process."""

import errno
import socket

from daphne.endpoints import build_endpoint_description_strings
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from studio.asgi import application
from studio.engine.worker import BackgroundWorker
from studio.httpserver import LimitedServer


class Command(BaseCommand):
    help = "Serve Slate (HTTP and websockets); in the embedded default, also run the worker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--worker-threads", type=int, default=1)

    def handle(self, *args, host, port, worker_threads, **options):
        # Twisted only logs a failed listen and the process still exits 0, after the banner
        # has already said the studio is running: so ask the OS first.
        ensure_free(host, port)
        worker = (
            BackgroundWorker(worker_threads).start() if settings.SLATE_EMBEDDED_WORKER else None
        )
        self.stdout.write(f"Slate is running at http://{host}:{port}/  (Ctrl-C to stop)")
        LimitedServer(
            application=application,
            max_request_bytes=settings.SLATE_MAX_REQUEST_BYTES,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            websocket_timeout=86400,
            ping_interval=20,
            ping_timeout=30,
        ).run()
        if worker:
            worker.stop()


def ensure_free(host: str, port: int) -> None:
    """Raise CommandError, in one line, unless ``host:port`` can be listened on right now.

    The probe sets SO_REUSEADDR as Twisted does, so a port left in TIME_WAIT by the last run
    counts as free while one another server listens on does not.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise CommandError(f"Cannot serve on {host}: {error.strerror}.") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
            probe.listen()
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CommandError(
                    f"Port {port} on {host} is already in use; stop the other server "
                    f"or run `make run PORT={port + 1}`"
                ) from None
            raise CommandError(f"Cannot serve on {host}:{port}: {error.strerror}.") from None
