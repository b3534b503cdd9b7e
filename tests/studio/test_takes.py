"""The take lifecycle: every transition saved first, terminal states final, nothing stuck."""

from datetime import timedelta
from pathlib import Path

import av
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from studio import takes
from studio.engine import leases, local, sweep
from studio.media import sha256_of
from studio.models import Status, Take
from studio.providers import ProviderError
from tests.support import engine
from tests.support.engine import refreshed


@pytest.fixture
def queue(workspace, shot, django_capture_on_commit_callbacks):
    def make(**settings) -> Take:
        settings.setdefault("seed", 5)
        with django_capture_on_commit_callbacks(execute=True):
            take = engine.queue(workspace, shot=shot, provider="animatic", model="", **settings)
        return refreshed(take)  # enqueueing set its task id

    return make


def tasks_for(take: Take) -> int:
    return sum(t.args_kwargs["args"] == [take.pk] for t in DBTaskResult.objects.all())


def status_of(take: Take) -> str:
    return Take.objects.values_list("status", flat=True).get(pk=take.pk)


def test_queue_take_saves_the_shot_and_enqueues_a_render(queue, shot):
    take = queue()
    take.refresh_from_db()
    assert take.status == Status.QUEUED
    assert take.composed_prompt.startswith("Subject: lighthouse keeper.")
    assert take.camera == shot.camera and take.seed == 5
    task = DBTaskResult.objects.get(id=take.task_id)
    assert task.args_kwargs["args"] == [take.pk]
    assert task.task_path == "studio.tasks.advance_take"


def test_run_take_renders_a_real_video_and_completes(queue):
    take = queue()
    assert local.run_take(take.pk) == Status.COMPLETED
    take.refresh_from_db()
    assert (take.status, take.progress, take.attempts) == (Status.COMPLETED, 100, 1)
    assert take.lease_owner == "" and take.finished_at and take.started_at
    video = Path(default_storage.path(take.video.name))
    assert sha256_of(video) == take.video_sha256
    assert take.probe["video_codec"] == "h264" and take.probe["frames"] == 96
    assert take.probe["width"] == 1280 and take.probe["duration"] == pytest.approx(4, abs=0.05)
    with av.open(default_storage.path(take.poster.name)) as poster:
        assert poster.streams.video[0].codec_context.width == 640


def test_claim_moves_queued_to_in_progress_once(queue):
    take = queue()
    claimed = local.claim(take.pk)
    assert claimed is not None and claimed[0].status == Status.IN_PROGRESS
    assert local.claim(take.pk) is None  # a second worker finds nothing to do
    assert local.run_take(take.pk) is None


def test_heartbeat_records_progress_and_renews_the_lease(queue):
    take = queue()
    _, owner = local.claim(take.pk)
    Take.objects.filter(pk=take.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=5))
    local.heartbeat(take.pk, owner, 42)
    take.refresh_from_db()
    assert take.progress == 42 and take.lease_expires_at > timezone.now() + timedelta(seconds=20)


def test_a_worker_that_lost_its_lease_is_told_to_stop(queue):
    take = queue()
    local.claim(take.pk)
    with pytest.raises(leases.TakeLost):
        local.heartbeat(take.pk, "someone-else", 10)
    assert not takes.complete(take.pk, "someone-else", probe={})


@pytest.mark.parametrize("terminal", [Status.COMPLETED, Status.FAILED, Status.CANCELLED])
def test_terminal_states_are_final(queue, terminal):
    take = queue()
    Take.objects.filter(pk=take.pk).update(status=terminal)
    assert not takes.cancel(take.pk)
    assert not takes.end(take.pk, Status.FAILED, "late", "x")
    assert local.claim(take.pk) is None
    assert status_of(take) == terminal


def test_cancelling_a_queued_take_means_it_never_renders(queue):
    take = queue()
    assert takes.cancel(take.pk)
    assert local.run_take(take.pk) is None
    take.refresh_from_db()
    assert take.status == Status.CANCELLED and not take.video


def test_cancelling_mid_render_stops_the_worker_and_keeps_nothing(queue, monkeypatch, settings):
    take = queue(seconds=8)
    monkeypatch.setattr(local, "PROGRESS_INTERVAL", 0)

    real_heartbeat = local.heartbeat

    def heartbeat_then_cancel(take_id, owner, progress):
        real_heartbeat(take_id, owner, progress)
        if progress >= 30:
            takes.cancel(take_id)  # the creator presses Cancel while it renders

    monkeypatch.setattr(local, "heartbeat", heartbeat_then_cancel)
    assert local.run_take(take.pk) == Status.CANCELLED
    take.refresh_from_db()
    assert take.status == Status.CANCELLED and 30 <= take.progress < 60
    assert not take.video and not take.poster
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.mp4"))
    assert not any(Path(settings.SCRATCH_DIR).iterdir())


class BrokenProvider:
    def render(self, job, out_path, on_progress):
        on_progress(0.5)
        raise ProviderError("The renderer ran out of disk space.", code="disk_full")


def test_a_provider_error_fails_the_take_with_its_message(queue, monkeypatch):
    take = queue()
    monkeypatch.setattr(local, "get_provider", lambda name: BrokenProvider())
    assert local.run_take(take.pk) == Status.FAILED
    take.refresh_from_db()
    assert (take.error_code, take.error_message) == (
        "disk_full",
        "The renderer ran out of disk space.",
    )


def test_an_unexpected_crash_fails_the_take_with_a_reason(queue, monkeypatch):
    class Crashing:
        def render(self, job, out_path, on_progress):
            raise ValueError("bad frame")

    take = queue()
    monkeypatch.setattr(local, "get_provider", lambda name: Crashing())
    assert local.run_take(take.pk) == Status.FAILED
    take.refresh_from_db()
    assert take.error_code == "render_error" and "bad frame" in take.error_message


def expire(take: Take, attempts: int) -> None:
    Take.objects.filter(pk=take.pk).update(
        status=Status.IN_PROGRESS,
        lease_owner="dead-worker",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
        attempts=attempts,
        progress=55,
    )


def test_sweep_requeues_a_take_whose_worker_died(queue, django_capture_on_commit_callbacks):
    take = queue()
    expire(take, attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        report = sweep.sweep()
    assert report.requeued == 1
    take.refresh_from_db()
    assert (take.status, take.progress, take.lease_owner) == (Status.QUEUED, 0, "")
    assert tasks_for(take) == 2  # enqueued again
    assert local.run_take(take.pk) == Status.COMPLETED
    assert Take.objects.get(pk=take.pk).attempts == 2


def test_sweep_fails_a_take_that_used_all_its_attempts(queue, settings):
    take = queue()
    expire(take, attempts=settings.SLATE_MAX_ATTEMPTS)
    assert sweep.sweep().failed == 1
    take.refresh_from_db()
    assert take.status == Status.FAILED and take.error_code == "worker_lost"
    assert "stopped unexpectedly 3 times" in take.error_message


def test_sweep_leaves_live_leases_alone(queue):
    take = queue()
    local.claim(take.pk)
    assert sweep.sweep() == sweep.SweepReport()
    assert status_of(take) == Status.IN_PROGRESS


def test_sweep_reenqueues_a_queued_take_whose_task_was_lost(queue, settings):
    take = queue()
    old = timezone.now() - timedelta(seconds=settings.SLATE_LEASE_SECONDS + 5)
    Take.objects.filter(pk=take.pk).update(updated_at=old)
    # Its task is still waiting for a worker: nothing to do.
    assert sweep.sweep().reenqueued == 0
    # Its task died with a worker (claimed, never finished): enqueue it again.
    DBTaskResult.objects.filter(id=take.task_id).update(status="RUNNING")
    assert sweep.sweep().reenqueued == 1
    take.refresh_from_db()
    assert take.status == Status.QUEUED and take.task_id != ""
    assert DBTaskResult.objects.get(id=take.task_id).status == "READY"


def test_the_sweep_removes_scratch_left_by_dead_workers_not_live_ones(queue, settings):
    import os
    import time

    live_take, dead_take = queue(), queue()
    Take.objects.filter(pk=live_take.pk).update(
        lease_owner="alive", lease_expires_at=timezone.now() + timedelta(seconds=60)
    )
    scratch = Path(settings.SCRATCH_DIR)
    leftover = scratch / f"take-{dead_take.pk}-aaaa"  # its worker died mid-step
    working = scratch / f"take-{live_take.pk}-bbbb"  # a long step, lease still renewed
    fresh = scratch / f"take-{dead_take.pk}-cccc"  # just made: its step may be starting
    for folder in (leftover, working, fresh):
        folder.mkdir(parents=True)
        (folder / "video.mp4").write_bytes(b"partial")
    an_hour_ago = time.time() - 3600
    for folder in (leftover, working):
        os.utime(folder, (an_hour_ago, an_hour_ago))
    # On its normal schedule: no restart needed.
    assert sweep.sweep().scratch_removed == 1
    assert not leftover.exists() and working.exists() and fresh.exists()


def test_the_sweep_finishes_task_rows_a_dead_worker_left_running(queue):
    take = queue()
    long_ago = timezone.now() - timedelta(hours=1)
    DBTaskResult.objects.filter(id=take.task_id).update(status="RUNNING", started_at=long_ago)
    assert sweep.sweep().tasks_finished == 1
    row = DBTaskResult.objects.get(id=take.task_id)
    assert row.status == "FAILED" and "worker" in row.traceback
    # A task whose worker still holds the take's lease is left alone.
    other = queue()
    DBTaskResult.objects.filter(id=other.task_id).update(status="RUNNING", started_at=long_ago)
    Take.objects.filter(pk=other.pk).update(
        lease_owner="alive", lease_expires_at=timezone.now() + timedelta(seconds=60)
    )
    assert sweep.sweep().tasks_finished == 0
    assert DBTaskResult.objects.get(id=other.task_id).status == "RUNNING"


def test_a_stopping_worker_hands_its_take_back_without_using_an_attempt(
    queue, monkeypatch, django_capture_on_commit_callbacks
):
    take = queue()
    monkeypatch.setattr(local, "PROGRESS_INTERVAL", 0)
    real_heartbeat = local.heartbeat

    def heartbeat_then_stop(take_id, owner, progress):
        real_heartbeat(take_id, owner, progress)
        local.shutting_down.set()  # SIGTERM arrives mid-render

    monkeypatch.setattr(local, "heartbeat", heartbeat_then_stop)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert local.run_take(take.pk) == Status.QUEUED
    finally:
        local.shutting_down.clear()
    take.refresh_from_db()
    assert (take.status, take.attempts, take.progress, take.lease_owner) == (
        Status.QUEUED,
        0,
        0,
        "",
    )
    assert tasks_for(take) == 2  # queued again for the next worker
    assert not take.video


def test_a_new_take_is_not_starved_by_another_takes_scheduled_steps(queue):
    """The queue takes due tasks by run_after: a take woken "now" must sort by now, not after
    every task that was scheduled (a watched take re-schedules itself every fraction of a
    second for as long as it renders)."""
    from django_tasks_db.models import DBTaskResult

    busy = queue()
    newcomer = queue()
    # Meanwhile the busy take's next step came due (scheduled by its last one).
    DBTaskResult.objects.filter(id=busy.task_id).update(run_after=timezone.now())
    ready = [str(task_id) for task_id in DBTaskResult.objects.ready().values_list("id", flat=True)]
    assert ready == [newcomer.task_id, busy.task_id]  # in the order they came due
