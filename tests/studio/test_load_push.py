"""Live pushes share one event loop (and so one channel-layer connection) per process, and a
push that fails or hangs never fails the work that made it."""

import asyncio
import logging
import os
import threading

import pytest
import redis
from channels.layers import BaseChannelLayer

from studio import live

# The shared Redis (pub/sub is server-wide): one test process uses it at a time.
pytestmark = pytest.mark.xdist_group("redis")

REDIS = os.environ.get("SLATE_TEST_REDIS", "redis://127.0.0.1:6379/15")
loops_seen: list[asyncio.AbstractEventLoop] = []


class RecordingLayer(BaseChannelLayer):
    async def group_send(self, group, message):
        loops_seen.append(asyncio.get_running_loop())


class HangingLayer(BaseChannelLayer):
    async def group_send(self, group, message):
        await asyncio.Event().wait()


class BrokenLayer(BaseChannelLayer):
    async def group_send(self, group, message):
        raise ConnectionError("the layer is down")


def use_layer(settings, name: str) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.{name}"}}


def test_pushes_from_any_thread_share_one_event_loop(settings):
    use_layer(settings, "RecordingLayer")
    loops_seen.clear()
    live.send("workspace-1-edit", {"type": "take.changed"})
    pushers = [
        threading.Thread(target=live.send, args=("workspace-1-edit", {"type": "take.changed"}))
        for _ in range(3)
    ]
    for pusher in pushers:
        pusher.start()
    for pusher in pushers:
        pusher.join()
    assert len(loops_seen) == 4
    assert len(set(map(id, loops_seen))) == 1


def test_a_hanging_layer_costs_a_push_its_timeout_and_no_more(settings, monkeypatch, caplog):
    use_layer(settings, "HangingLayer")
    monkeypatch.setattr(live, "SEND_TIMEOUT", 0.2)
    with caplog.at_level(logging.ERROR, logger="studio.live"):
        live.send("workspace-1-edit", {"type": "take.changed"})  # returns, doesn't raise
    assert "Could not push to workspace-1-edit" in caplog.text


def test_a_broken_layer_is_logged_not_raised(settings, caplog):
    use_layer(settings, "BrokenLayer")
    with caplog.at_level(logging.ERROR, logger="studio.live"):
        live.send("workspace-1-edit", {"type": "take.changed"})
    assert "the layer is down" in caplog.text


def test_the_push_loop_keeps_working_after_a_failed_push(settings):
    use_layer(settings, "BrokenLayer")
    live.send("workspace-1-edit", {"type": "take.changed"})
    use_layer(settings, "RecordingLayer")
    loops_seen.clear()
    live.send("workspace-1-edit", {"type": "take.changed"})
    assert len(loops_seen) == 1


def test_pushes_through_redis_reuse_one_connection(settings):
    client = redis.Redis.from_url(REDIS, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"SKIPPED LOUDLY: Redis is not reachable ({error})")
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS], "prefix": "slate-test-push"},
        }
    }
    message = {"type": "take.changed", "html": "<p>hi</p>"}
    live.send("workspace-1-edit", message)  # the first push connects
    opened = client.info("stats")["total_connections_received"]
    for _ in range(20):
        live.send("workspace-1-edit", message)
    # Other clients of this Redis may connect meanwhile; twenty pushes the old way opened 20.
    assert client.info("stats")["total_connections_received"] - opened < 5
