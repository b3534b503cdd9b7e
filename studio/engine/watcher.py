"""The watcher: one thread per worker process that follows every live take it was handed.

A take whose provider streams events (ComfyUI's websocket, fal's status stream without
webhooks) is handed here by its check, lease and all, once its socket is open and one
look said it runs (fal's stream's first event is that look). From then on no task
thread waits on it: one asyncio loop reads every such socket, saves and pushes each change
under the take's lease (renewing the leases, one write for all, a third of a lease apart),
and the moment a prompt ends it lets go of the take and wakes it at once, so a task thread
fetches the video. A cancel (or a takeover) is noticed within a second; a socket that
drops, or a take watched for SLATE_WATCH_SECONDS without ending, goes back to its check,
which looks by HTTP and hands it here again (a missed event costs one look, no more).

ComfyUI sends a prompt's events only to the socket of the client id it was submitted
with, one socket per id: each take keeps its own socket (its client id is per take), so a
take handed to another worker after a crash is followed there, with no socket stolen.

Database work (saves, pushes, leases) and the provider's HTTP calls run in a small pool
of threads beside the loop, never inside it. A worker that stops hands every take it
watches back to the queue; one that dies leaves leases that run out, and the sweep hands
those takes on.
"""

import asyncio
import contextlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings
from django.db import OperationalError, close_old_connections, connections
from django.db.models import F
from django.utils import timezone

from studio import live
from studio.database import database_busy
from studio.models import ACTIVE_STATUSES, Status, Take
from studio.providers.base import OutcomeUnknown, RemoteVideo, Retryable

from .leases import lease_deadline
from .pacing import LAG_FLOOR, let_go

log = logging.getLogger(__name__)

HEARTBEAT = 1.0  # seconds: how soon a cancel or a takeover is noticed
BUSY_TRIES = 12  # database work that met a busy database is tried again, waiting longer
POOL_THREADS = 4  # for the watcher's database work and provider calls
OPEN_TIMEOUT = 15.0  # seconds a check waits for a websocket's handshake (5 s of its own)


def save_update(take_id: int, owner: str, update: RemoteVideo) -> bool:
    """Save and push what a live event said; False when the take is no longer ours to
    follow (cancelled, ended or taken over)."""
    known = update.progress is not None
    still = Take.objects.filter(pk=take_id, lease_owner=owner, status=Status.IN_PROGRESS).update(
        remote_status=update.raw_status,
        progress=min(update.progress, 99) if known else F("progress"),
        progress_known=known,
        stage=update.stage,
        queue_position=update.queue_position,
        updated_at=timezone.now(),
    )
    if still:
        live.progress_changed(take_id)
    return bool(still)


@dataclass
class _Watch:
    take_id: int
    owner: str
    client: object  # the provider client: read(video, frame), settled(video)
    events: object  # its LiveEvents: frames(timeout), close()
    video: RemoteVideo
    since: float = field(default_factory=time.monotonic)
    task: asyncio.Task | None = None


class Watcher:
    """The process's watcher thread and its loop (started on first use)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="slate-watcher-io")
        self._watched: dict[int, _Watch] = {}  # read and written only in the loop
        # Held around each piece of database work: tests on an in-memory SQLite database
        # (whose table locks wait for nobody) share a lock with their own queries here.
        self.io_guard = contextlib.nullcontext()

    # --- from task threads --------------------------------------------------------------

    def open(self, client, video: RemoteVideo):
        """The job's live events, subscribed (a websocket's handshake done, a stream's
        answer begun), so nothing is missed between the caller's next look and the
        hand-over. Raises the provider's LiveUnavailable when they can't be opened, and
        TimeoutError when opening them takes too long."""
        loop = self._running()

        def run(coroutine):
            future = asyncio.run_coroutine_threadsafe(coroutine, loop)
            try:
                return future.result(OPEN_TIMEOUT)
            except TimeoutError:
                future.cancel()
                raise

        return client.live(video, run)

    def close(self, events) -> None:
        """Close live events that weren't handed over (the look said it needn't be watched)."""
        asyncio.run_coroutine_threadsafe(events.close(), self._running())

    def follow(self, take_id: int, owner: str, client, events, video: RemoteVideo) -> None:
        """Hand the take over, lease and all: from now on the watcher renews the lease,
        saves each change, and lets go of the take when its job ends."""
        watch = _Watch(take_id, owner, client, events, video)
        self._running().call_soon_threadsafe(self._start, watch)

    def watched(self) -> set[int]:
        """The takes this process's watcher follows now."""
        with self._lock:
            loop = self._loop
        if loop is None:
            return set()

        async def snapshot() -> set[int]:
            return set(self._watched)

        return asyncio.run_coroutine_threadsafe(snapshot(), loop).result(30)

    def stop(self, timeout: float = 10.0) -> None:
        """Hand every take watched back to the queue (a restart picks them up at once)."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        try:
            future.result(timeout)
        except Exception:
            log.exception("The watcher didn't stop cleanly; its leases run out instead")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._close_connections()

    def _close_connections(self) -> None:
        """Each pool thread closes its own database connection (only its own thread may):
        as many closes as threads, held at a barrier until all have started, so each runs
        in a different thread."""
        barrier = threading.Barrier(POOL_THREADS)

        def close() -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(5)
            connections.close_all()

        wait([self._pool.submit(close) for _ in range(POOL_THREADS)], timeout=10)

    def _running(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                started = threading.Event()
                thread = threading.Thread(
                    target=self._run, args=(loop, started), name="slate-watcher", daemon=True
                )
                thread.start()
                started.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    def _run(self, loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(started.set)
        heartbeat = loop.create_task(self._heartbeat())
        try:
            loop.run_forever()
        finally:
            heartbeat.cancel()
            loop.run_until_complete(asyncio.gather(heartbeat, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    # --- in the loop --------------------------------------------------------------------

    def _start(self, watch: _Watch) -> None:
        old = self._watched.pop(watch.take_id, None)
        if old and old.task:
            old.task.cancel()  # a stale watch of the same take (its lease is gone anyway)
        self._watched[watch.take_id] = watch
        watch.task = asyncio.get_running_loop().create_task(self._follow(watch))

    async def _io(self, function, *args):
        # The provider's calls write too (the lease renewed before each, the call counted).
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self._with_connection, function, *args
        )

    def _with_connection(self, function, *args):
        """``function`` in a pool thread; a database busy past its own timeout is waited
        out (every step here may be repeated: a save, a let-go, a look)."""
        for attempt in range(BUSY_TRIES):
            # The pool's threads live on: a connection the database closed is replaced.
            close_old_connections()
            try:
                with self.io_guard:
                    return function(*args)
            except OperationalError as error:
                # SQLite's shared in-memory database (the tests') says its schema is locked
                # where a file database waits: the same cure.
                busy = database_busy(error) or "schema is locked" in str(error)
                if not busy or attempt == BUSY_TRIES - 1:
                    raise
            time.sleep(min(0.05 * 2**attempt, 2.0))

    async def _follow(self, watch: _Watch) -> None:
        """Read the take's frames until its job ends, its socket drops, it stops being ours
        or it has been watched for SLATE_WATCH_SECONDS; then let go of it (unless it isn't
        ours any more) and wake it at once."""
        let_go_now, again = True, 0.0
        try:
            while (left := watch.since + settings.SLATE_WATCH_SECONDS - time.monotonic()) > 0:
                frames = await watch.events.frames(min(left, HEARTBEAT))
                if frames is None:
                    # Dropped: its check looks, and knocks again; a stream that keeps breaking
                    # off at once is reopened no faster than a take is polled at first.
                    again = max(LAG_FLOOR - (time.monotonic() - watch.since), 0.0)
                    break
                ended = lost = False
                for frame in frames:  # each change saved and pushed, as the card tells them
                    ended, current = watch.client.read(watch.video, frame)
                    if ended:
                        watch.video = current
                        break
                    if current is not watch.video:
                        watch.video = current
                        if not await self._io(save_update, watch.take_id, watch.owner, current):
                            lost = True
                            break
                if lost:
                    let_go_now = False  # cancelled or taken over
                    self._forget(watch)
                    await self._io(_release_cancelling, watch.take_id, watch.owner)
                    break
                if ended:
                    # History is written just after the end event: read it here, so the task
                    # thread woken next acts on it at once (a finished video: the download).
                    final = None
                    try:
                        final = await self._io(watch.client.settled, watch.video)
                    except (Retryable, OutcomeUnknown) as error:
                        log.info("Take %s: %s; its check will look", watch.take_id, error)
                    let_go_now = False
                    self._forget(watch)
                    await self._io(_ended, watch.take_id, watch.owner, final)
                    break
        except asyncio.CancelledError:
            let_go_now = False  # the heartbeat or the shutdown decides what becomes of it
            raise
        except Exception:
            log.exception("Take %s: watching failed; its check will look", watch.take_id)
        finally:
            self._forget(watch)
            await watch.events.close()
            if let_go_now:
                await self._io(let_go, watch.take_id, watch.owner, again)

    def _forget(self, watch: _Watch) -> None:
        if self._watched.get(watch.take_id) is watch:
            del self._watched[watch.take_id]

    async def _heartbeat(self) -> None:
        """Every second: stop following takes that are no longer ours (a cancelled one is
        handed to its stop step at once); a third of a lease apart, renew the others."""
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(HEARTBEAT)
            watches = list(self._watched.values())
            if not watches:
                continue
            renew = time.monotonic() - renewed >= settings.SLATE_LEASE_SECONDS / 3
            try:
                ours = await self._io(_keep, [(w.take_id, w.owner) for w in watches], renew)
            except Exception:
                log.exception("The watcher's heartbeat failed; trying again")
                continue
            if renew:
                renewed = time.monotonic()
            for watch in watches:
                if watch.take_id not in ours and watch.task:
                    self._forget(watch)
                    watch.task.cancel()
                    # A cancelled take still leased to us: hand it to its stop step now.
                    await self._io(_release_cancelling, watch.take_id, watch.owner)

    async def _shutdown(self) -> None:
        watches = list(self._watched.values())
        for watch in watches:
            if watch.task:
                watch.task.cancel()
        await asyncio.gather(*(w.task for w in watches if w.task), return_exceptions=True)
        for watch in watches:
            await self._io(let_go, watch.take_id, watch.owner, 0)


def _keep(watched: list[tuple[int, str]], renew: bool) -> set[int]:
    """Which of the watched takes are still ours and in progress (renewing their leases)."""
    owners = dict(watched)
    rows = Take.objects.filter(pk__in=owners, status=Status.IN_PROGRESS).values_list(
        "pk", "lease_owner"
    )
    ours = {pk for pk, owner in rows if owners[pk] == owner}
    if renew and ours:
        Take.objects.filter(
            pk__in=ours, lease_owner__in=[owners[pk] for pk in ours], status__in=ACTIVE_STATUSES
        ).update(lease_expires_at=lease_deadline())
    return ours


def _ended(take_id: int, owner: str, final: RemoteVideo | None) -> None:
    """Let go of a take whose job ended and wake it now. What history said is kept as a
    trusted word on the job, as a signed webhook's is: a finished video is downloaded
    without asking again, any other end is looked at once, without a websocket."""
    if final is None:
        let_go(take_id, owner, 0)
        return
    let_go(
        take_id,
        owner,
        0,
        webhook_hint="completed" if final.status == "completed" else "failed",
        remote_status=final.raw_status,
        remote_data=final.data,
    )


def _release_cancelling(take_id: int, owner: str) -> None:
    if Take.objects.filter(pk=take_id, lease_owner=owner, status=Status.CANCELLING).exists():
        let_go(take_id, owner, 0)


watcher = Watcher()  # the process's one watcher
