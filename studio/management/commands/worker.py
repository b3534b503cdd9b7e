"""A worker process of its own, for scale-out (set SLATE_EMBEDDED_WORKER=false on servers)."""

import faulthandler
import signal
import sys
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from studio.engine.worker import BackgroundWorker


class Command(BaseCommand):
    help = "Run takes from the queue and sweep up after dead workers, until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--threads", type=int, default=1)

    def handle(self, *args, threads, **options):
        if not getattr(settings, "REDIS_URL", ""):
            self.stderr.write(
                "Note: without REDIS_URL this worker's progress reaches no browser "
                "(the in-memory channel layer is per process)."
            )
        # `kill -USR1 <pid>` prints what every thread is doing: a stuck worker explains itself.
        faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
        worker = BackgroundWorker(threads).start()
        done = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        self.stdout.write(f"Worker running with {threads} thread(s). Ctrl-C to stop.")
        done.wait()
        worker.stop()
