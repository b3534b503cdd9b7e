"""The shared rate limiter, in process: the window, in-flight slots, pauses, both stores."""

import itertools
import os
import time

import pytest
import redis

from studio.providers.ratelimit import DatabaseRateLimiter, RedisRateLimiter
from tests.conftest import CI

# The shared Redis (pub/sub is server-wide): one test process uses it at a time.
pytestmark = pytest.mark.xdist_group("redis")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.mark.django_db
def test_never_more_than_the_limit_in_any_window_counted_from_the_answers():
    clock = Clock()
    limiter = DatabaseRateLimiter("k", 3, 10.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(7):
        slot = limiter.acquire()
        starts.append(clock.now)
        clock.now += 0.5  # the request takes half a second to come back
        limiter.release(slot)
    for i, start in enumerate(starts):
        assert sum(start <= s < start + 10.0 for s in starts[i:]) <= 3
    assert starts[3] == pytest.approx(starts[0] + 0.5 + 10.0)  # a window after the first answer


@pytest.mark.django_db
def test_requests_in_flight_hold_their_slot():
    clock = Clock()
    limiter = DatabaseRateLimiter("k", 2, 10.0, clock=clock, sleep=clock.sleep)
    first, second = limiter.try_acquire("a"), limiter.try_acquire("b")
    assert (first, second) == (0, 0)
    clock.now += 60  # long after the window, but neither has come back
    assert limiter.try_acquire("c") > 0
    limiter.release("a")
    assert limiter.try_acquire("c") > 0  # "a" counts from its answer: just now
    clock.now += 10
    assert limiter.try_acquire("c") == 0


@pytest.mark.django_db
def test_a_pause_holds_everyone_until_the_retry_after():
    clock = Clock()
    first = DatabaseRateLimiter("k", 100, 60.0, clock=clock, sleep=clock.sleep)
    other_worker = DatabaseRateLimiter("k", 100, 60.0, clock=clock, sleep=clock.sleep)
    first.pause(4.0)
    assert other_worker.try_acquire("x") == pytest.approx(4.0)
    other_worker.acquire()
    assert clock.now == pytest.approx(1004.0)


def redis_url():
    url = os.environ.get("SLATE_TEST_REDIS", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError as error:
        if CI:
            pytest.fail(f"Redis is not reachable: {error}")
        pytest.skip(f"SKIPPED LOUDLY: Redis is not reachable: {error}")
    return url


def test_redis_limiter_shares_one_window_and_one_pause():
    url = redis_url()
    key = f"test-{os.getpid()}-{id(url)}"
    limiters = [RedisRateLimiter(key, 5, 2.0, redis_url=url) for _ in range(4)]
    granted = [n for n in range(12) if limiters[n % 4].try_acquire(f"t{n}") == 0]
    assert len(granted) == 5
    for n in granted:
        limiters[0].release(f"t{n}")
    assert limiters[1].try_acquire("late") > 1.5  # full until two seconds after the answers
    limiters[0].pause(30.0)
    assert limiters[2].try_acquire("paused") > 29


def test_a_creators_own_gpu_has_no_request_limit_by_default_and_apis_do(workspace):
    from studio.providers import endpoints
    from studio.providers.ratelimit import NoLimit

    gpu = endpoints.add_endpoint(
        workspace, name="gpu", kind="comfyui", base_url="http://127.0.0.1:8188", models=["smoke"]
    )
    api = endpoints.add_endpoint(
        workspace,
        name="api",
        kind="openai",
        base_url="https://api.example/v1",
        api_key="sk-test",
        models=["sora-2"],
    )
    assert gpu.requests_per_minute == 0 and api.requests_per_minute == 25
    limiter = endpoints.client_for(gpu).acquire.__self__
    assert isinstance(limiter, NoLimit)
    started = time.monotonic()
    for _ in range(100):  # a burst far past any paid API's allowance goes straight through
        limiter.release(limiter.acquire())
    assert time.monotonic() - started < 30
    assert not isinstance(endpoints.client_for(api).acquire.__self__, NoLimit)


@pytest.mark.django_db
@pytest.mark.parametrize("store", ["database", "redis"])
def test_a_slot_taken_but_never_used_is_free_again_at_once(store):
    clock = Clock()
    if store == "redis":
        limiter = RedisRateLimiter(f"give-back-{os.getpid()}", 1, 60.0, redis_url=redis_url())
    else:
        limiter = DatabaseRateLimiter("k", 1, 60.0, clock=clock, sleep=clock.sleep)
    token = limiter.acquire()
    limiter.give_back(token)  # its request was never sent (the take was no longer ours)
    assert limiter.try_acquire("next") == 0  # not a minute's wait


@pytest.mark.django_db
def test_whoever_waits_for_a_slot_is_called_while_it_waits():
    clock = Clock()
    limiter = DatabaseRateLimiter("k", 1, 60.0, clock=clock, sleep=clock.sleep)
    limiter.release(limiter.acquire())
    seen = []
    limiter.acquire(waiting=lambda: seen.append(clock.now))
    # A 60 s wait in steps of at most WAIT_STEP: the waiter (a lease) is renewed throughout.
    assert len(seen) >= 60 / 5 and all(b - a <= 5.0 for a, b in itertools.pairwise(seen))
