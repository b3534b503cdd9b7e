"""The task worker and the sweep, run in threads of whichever process hosts them (beside
the watcher's thread, watcher.py, started on first use and stopped with them).

`manage.py serve` runs them inside the web server (the embedded default);
`manage.py worker` runs them in a process of their own (scale-out).
"""

import logging
import os
import secrets
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Worker

from . import local, sweep
from .watcher import watcher

log = logging.getLogger(__name__)


class BackgroundWorker:
    """Task-worker threads and a sweeper thread, supervised, with a graceful stop."""

    def __init__(self, threads: int = 1):
        self.stop_event = threading.Event()
        self.workers = [self._worker(n) for n in range(threads)]
        self.threads: list[threading.Thread] = []

    @staticmethod
    def _worker(n: int) -> Worker:
        return Worker(
            queue_names=["default"],
            interval=settings.SLATE_WORKER_POLL_SECONDS,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"{socket.gethostname()[:30]}-{os.getpid()}-{n}-{secrets.token_hex(3)}",
            excluded_queue_names=[],
        )

    def start(self) -> "BackgroundWorker":
        sweep.clean_scratch()
        for n, worker in enumerate(self.workers):
            self._thread(self._supervise, worker, name=f"slate-worker-{n}")
        self._thread(self._sweep_forever, name="slate-sweeper")
        log.info("Worker started: %d task thread(s) and the sweep", len(self.workers))
        return self

    def _thread(self, target, *args, name: str) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _supervise(self, worker: Worker) -> None:
        # The library's loop re-raises database errors other than "locked" (a
        # database restart, say); a dead thread would leave takes queued forever.
        delay = 1.0
        while not self.stop_event.is_set():
            try:
                worker.run()
            except Exception:
                log.exception("Task worker crashed; restarting in %.0f s", delay)
                if self.stop_event.wait(delay):
                    return
                delay = min(delay * 2, 30)
            finally:
                close_old_connections()

    def _sweep_forever(self) -> None:
        while True:
            try:
                close_old_connections()
                report = sweep.sweep()
                if any(vars(report).values()):
                    log.warning("Sweep: %s", report)
                for name, outcome in sweep.housekeeping().items():
                    log.info("Housekeeping %s: %s", name, outcome)
            except Exception:
                log.exception("Sweep failed; trying again at the next interval")
            finally:
                close_old_connections()
            if self.stop_event.wait(settings.SLATE_SWEEP_SECONDS):
                return

    def stop(self, timeout: float = 15.0) -> None:
        """Stop taking work; a take being rendered is handed back to the queue."""
        local.shutting_down.set()
        self.stop_event.set()
        for worker in self.workers:
            worker.running = False
        watcher.stop()  # the takes it follows go back to the queue, for a restart to pick up
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(deadline - time.monotonic(), 0))
