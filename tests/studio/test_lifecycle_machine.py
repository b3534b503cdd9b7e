"""A hypothesis state machine of the take lifecycle against the simulator.

Rules interleave what really happens: workers advancing takes (twice at once,
too), workers dying at any crash point, leases running out, the sweep,
webhooks duplicated or arriving early or late, polls, cancels, time passing
at the provider. After every step: at most one provider job per take,
terminal states final, the ledger balanced, never a second charge.
"""

import contextlib
import os
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from studio import crashpoints, ledger, takes
from studio.engine import advance, pacing, sweep
from studio.models import (
    TERMINAL_STATUSES,
    LedgerEntry,
    ProviderEndpoint,
    Status,
    Take,
    WebhookDelivery,
    Workspace,
)
from studio.prompts import Shot
from tests.fakes.comfyui import ComfyFaults, ComfySimulator
from tests.fakes.openrouter_api import OpenRouterSimulator
from tests.fakes.videos_api import Faults, serve
from tests.support.engine import (
    connect,
    connect_comfy,
    connect_fal,
    fal_simulator,
    simulator,
    watcher_beside_the_test,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _watcher():
    with watcher_beside_the_test():  # ComfyUI takes are followed by the watcher thread
        yield


class Crash(BaseException):
    """A worker dying at a crash point: nothing after it runs, as with SIGKILL."""


class FakeClock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


# What each provider kind's takes are queued with, and how its words end.
SETTINGS = {
    "openai": {"model": "sora-2", "size": "1280x720", "seconds": 4},
    "openrouter": {"model": "google/veo-3.1", "size": "1280x720", "seconds": 4},
    "fal": {"model": "fal-ai/veo3.1", "size": "1280x720", "seconds": 4},
    "comfyui": {"model": "smoke", "size": "640x360", "seconds": 1},
}
OUTCOMES = {
    "calm": {"completed"},
    "FAILME": {"failed"},
    "REFUSE": {"refused"},
    "BLOCKME": {"refused"},
}
NO_MODERATION = {**OUTCOMES, "REFUSE": {"completed"}, "BLOCKME": {"completed"}}


# The rules are about jobs, states and money, not pictures: the cloud simulators serve small
# clips (as fal's always does), so copying, probing and a thumbnail sheet per completed take
# cost little, and hundreds of them run in seconds.
SMALL = {"render_seconds": (1.0, 3.0), "asset_size": "320x180"}
# Jobs that can't be listed (fal, OpenRouter): a take whose create answer was lost waits for
# the callback ~4 typical renders of wall-clock time. This machine's renders take simulator
# seconds while a busy machine spends real seconds on each step: a typical render of a minute
# keeps that patience far above a run's wall-clock time (with 0.3 s, a loaded CI machine ended
# a take "outcome unknown" before its callback came).
PATIENT = {"typical_render": {"base": 60.0, "per_second": 0.0}}


def provider(kind, monkeypatch, workspace, servers):
    """A simulator of ``kind`` behind an endpoint called "sim" with webhooks where it has them."""
    if kind == "comfyui":
        sim = ComfySimulator(ComfyFaults(render_seconds=0.03))
        running = servers.enter_context(serve(sim))
        connect_comfy(monkeypatch, workspace, running.base_url, name="sim")
        from django.conf import settings as django_settings

        monkeypatch.setattr(django_settings, "SLATE_WATCH_SECONDS", 0.05)
        return sim
    if kind == "fal":
        sim = fal_simulator(**SMALL)
        sim.clock = FakeClock()
        connect_fal(
            monkeypatch,
            workspace,
            sim,
            webhooks=True,
            name="sim",
            models=("fal-ai/veo3.1",),
            overrides={"fal-ai/veo3.1": PATIENT},
        )
        return sim
    if kind == "openrouter":
        sim = OpenRouterSimulator(Faults(**SMALL))
        sim.clock = FakeClock()
        endpoint = connect(
            monkeypatch,
            workspace,
            sim,
            webhooks=True,
            models=("google/veo-3.1",),
            profile="openrouter",
        )
        endpoint.model_overrides = {"google/veo-3.1": PATIENT}
        endpoint.save()
        return sim
    sim = simulator(**SMALL)
    sim.clock = FakeClock()
    connect(monkeypatch, workspace, sim, webhooks=True)
    return sim


def run_machine(monkeypatch, kind):
    class Lifecycle(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            for model in (LedgerEntry, WebhookDelivery, Take, ProviderEndpoint, Workspace):
                model.objects.all().delete()
            self.workspace = Workspace.objects.create(name="W", slug="w")
            self.servers = contextlib.ExitStack()
            self.sim = provider(kind, monkeypatch, self.workspace, self.servers)
            self.sim.deliver = self._deliver
            self.web = Client()
            self.armed: str | None = None
            self.history: dict[int, list[str]] = {}
            monkeypatch.setattr(crashpoints, "crashpoint", self._crashpoint)
            monkeypatch.setattr(pacing, "backoff", lambda take, error=None: 0.0)
            # The engine's waits are wall-clock; this machine's time is the simulator's.
            monkeypatch.setattr(pacing, "grace_seconds", lambda: 0.02)
            self.sent: list[tuple[str, dict, bytes]] = []

        def _crashpoint(self, name, take_id):
            if self.armed == name:
                self.armed = None
                raise Crash(name)

        def _deliver(self, url, headers, body):
            self.sent.append((url, headers, body))
            return self._post(url, headers, body)

        def _post(self, url, headers, body):
            headers = {k: v for k, v in headers.items() if k != "content-type"}
            return self.web.post(
                url.removeprefix("http://testserver"),
                data=body,
                content_type="application/json",
                headers=headers,
            ).status_code

        def _time_passes(self, seconds):
            if kind == "comfyui":
                time.sleep(min(seconds, 0.05))  # a real server: wall time
            else:
                self.sim.clock.now += seconds
                self.sim.tick()

        def _ids(self):
            return list(Take.objects.values_list("pk", flat=True))

        @rule(word=st.sampled_from(["calm", "calm", "calm", "FAILME", "REFUSE", "BLOCKME"]))
        def queue(self, word):
            n = len(self.history) % 2  # identical takes too: same prompt, same settings
            take = takes.queue_take(
                self.workspace,
                Shot(subject=f"{word} shot {n}"),
                provider="sim",
                **SETTINGS[kind],
            )
            self.history[take.pk] = [take.status]

        @precondition(lambda self: self.history)
        @rule(data=st.data(), twice=st.booleans())
        def advance(self, data, twice):
            take_id = data.draw(st.sampled_from(self._ids()))
            Take.objects.filter(pk=take_id, next_check_at__isnull=False).update(
                next_check_at=timezone.now()
            )  # a poll that is due
            for _ in range(2 if twice else 1):
                with contextlib.suppress(Crash):
                    advance.advance(take_id)

        @rule(point=st.sampled_from(crashpoints.POINTS))
        def arm_a_crash(self, point):
            self.armed = point

        @precondition(lambda self: self.history)
        @rule()
        def leases_run_out(self):
            Take.objects.exclude(lease_expires_at=None).update(
                lease_expires_at=timezone.now() - timedelta(seconds=1)
            )

        @rule()
        def sweep(self):
            sweep.sweep()

        @rule(seconds=st.floats(0.1, 4.0))
        def time_passes(self, seconds):
            self._time_passes(seconds)

        @precondition(lambda self: self.sent)
        @rule(data=st.data())
        def webhook_again(self, data):
            url, headers, body = data.draw(st.sampled_from(self.sent))
            self._post(url, headers, body)  # a duplicate, or one arriving out of order

        @precondition(lambda self: self.history)
        @rule(data=st.data())
        def cancel(self, data):
            takes.cancel(data.draw(st.sampled_from(self._ids())))

        @invariant()
        def at_most_one_provider_job_per_take(self):
            made: dict[str, int] = {}
            for video in self.sim.creates:
                made[video.prompt] = made.get(video.prompt, 0) + 1
            for prompt, count in made.items():
                asked = Take.objects.filter(composed_prompt=prompt).count()
                assert count <= asked, (prompt, count, asked)
            adopted = list(Take.objects.exclude(remote_id="").values_list("remote_id", flat=True))
            assert len(adopted) == len(set(adopted))  # no job claimed by two takes

        @invariant()
        def terminal_states_are_final(self):
            for take_id, status in Take.objects.values_list("pk", "status"):
                seen = self.history.setdefault(take_id, [])
                if seen and seen[-1] in TERMINAL_STATUSES:
                    assert status == seen[-1], (take_id, seen, status)
                if not seen or seen[-1] != status:
                    seen.append(status)

        @invariant()
        def ledger_balanced_and_never_charged_twice(self):
            assert ledger.unbalanced_takes() == []
            for take_id, status in Take.objects.values_list("pk", "status"):
                kinds = list(
                    LedgerEntry.objects.filter(take_id=take_id).values_list("kind", flat=True)
                )
                assert kinds.count("hold") == 1 and kinds.count("charge") <= 1
                if status in TERMINAL_STATUSES and status != Status.COMPLETED:
                    assert "charge" not in kinds

        def teardown(self):
            # Everything heals: with no more crashes, every take reaches an honest end.
            self.armed = None
            deadline = time.monotonic() + 300  # bounds only a run going wrong
            while (active := Take.objects.exclude(status__in=TERMINAL_STATUSES)).exists():
                assert time.monotonic() < deadline, list(active.values_list("pk", "status"))
                time.sleep(0.005)
                Take.objects.exclude(lease_expires_at=None).update(
                    lease_expires_at=timezone.now() - timedelta(seconds=1)
                )
                sweep.sweep()
                self._time_passes(1.0)
                for take_id in active.values_list("pk", flat=True):
                    Take.objects.filter(pk=take_id).update(next_check_at=timezone.now())
                    advance.advance(take_id)
            assert not Take.objects.exclude(status__in=TERMINAL_STATUSES).exists()
            for subject, status, code in Take.objects.values_list(
                "subject", "status", "error_code"
            ):
                word = subject.split()[0]
                outcomes = NO_MODERATION if kind == "comfyui" else OUTCOMES
                allowed = outcomes[word] | {"cancelled"}
                assert status in allowed or code == "worker_lost", (subject, status, code)
            self.ledger_balanced_and_never_charged_twice()
            self.at_most_one_provider_job_per_take()
            self.servers.close()

    Lifecycle.TestCase.settings = settings(
        # Ten runs of thirty steps per kind in the suite; SLATE_MACHINE_EXAMPLES asks for more.
        max_examples=int(os.environ.get("SLATE_MACHINE_EXAMPLES", "10")),
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    Lifecycle.TestCase().runTest()


@pytest.mark.parametrize("kind", list(SETTINGS))
def test_the_take_lifecycle_keeps_its_invariants(monkeypatch, kind):
    run_machine(monkeypatch, kind)
