"""A budget alert reaches every studio page of the workspace, live, once per threshold."""

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from studio import budgets, takes
from studio.prompts import Shot
from studio.providers import endpoints
from tests.studio.test_consumers import fresh_layer, joined  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def setup(workspace):
    endpoints.add_endpoint(
        workspace, name="openai", kind="openai", base_url="https://api.example.com/v1",
        api_key="sk-test-key", models=["sora-2"],
    )  # fmt: skip
    budgets.set_budget(workspace, monthly_cap=Decimal("1.00"))


def queue(workspace):
    takes.queue_take(
        workspace, Shot(subject="a gull"), provider="openai", model="sora-2",
        size="1280x720", seconds=4,
    )  # fmt: skip


async def test_viewers_and_editors_see_an_alert_as_it_fires(personas, workspace):
    await sync_to_async(setup)(workspace)
    viewer = await joined(personas["viewer"], "/ws/w/harbour/")
    editor = await joined(personas["editor"], "/ws/w/harbour/")
    await sync_to_async(queue)(workspace)  # 40 %: no alert, only the take's card
    await sync_to_async(queue)(workspace)  # 80 %: 50 and 80 reached
    for ws in (viewer, editor):
        seen = [await ws.receive_from(timeout=3) for _ in range(3)]
        notices = [html for html in seen if 'id="budget-notice"' in html]
        assert len(notices) == 1 and "80 % of this workspace" in notices[0]
        assert "$1.00 monthly cap" in notices[0]
        assert await ws.receive_nothing(timeout=0.2)
        await ws.disconnect()
