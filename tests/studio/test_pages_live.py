"""Scale-out: with channels-redis's pub/sub layer, pushes still know whether anyone watches."""

import shutil
import subprocess
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from studio import live, takes
from studio.asgi import application
from tests.support.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_url():
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_layer(settings, redis_url):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [redis_url]},
        }
    }


async def test_redis_tells_whether_a_workspace_has_a_socket(redis_layer, personas, workspace, shot):
    edit, view = live.group_name(workspace.pk, "edit"), live.group_name(workspace.pk, "view")
    assert not await sync_to_async(live.subscribed)(edit)
    ws = WebsocketCommunicator(
        application, "/ws/w/harbour/", headers=[(b"origin", b"http://localhost")]
    )
    ws.scope["user"] = personas["editor"]
    assert (await ws.connect())[0]
    await ws.receive_from(timeout=2)  # the snapshot
    assert await sync_to_async(live.subscribed)(edit)
    assert not await sync_to_async(live.subscribed)(view)
    take = await sync_to_async(takes.queue_take)(
        workspace, shot, provider="animatic", size="1280x720", seconds=4
    )
    assert f'id="take-card-{take.pk}"' in await ws.receive_from(timeout=5)
    await ws.disconnect()
    assert not await sync_to_async(live.subscribed)(edit)
