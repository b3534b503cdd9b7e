"""Websocket consumers: join the workspace's group and forward take fragments.

One consumer per tab. A workspace page receives the take list on state changes
and progress bars in between; a take page receives that take's live panel.
Fragments arrive rendered (see live.py); consumers only pick the one for their
page and the member's role. On connecting, a socket first gets the current
state, so nothing that happened between page load and connect is missed.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from . import access, live


class LiveConsumer(AsyncWebsocketConsumer):
    groups_joined: tuple[str, ...] = ()
    take_id: int | None = None

    async def connect(self):
        kwargs = self.scope["url_route"]["kwargs"]
        self.slug, self.take_id = kwargs.get("slug"), kwargs.get("take_id")
        membership = await self._membership()
        if membership is None:
            await self.close()  # before accept: the handshake is refused (HTTP 403)
            return
        self.role = "edit" if membership.can_edit else "view"
        self.groups_joined = (
            live.group_name(membership.workspace_id),
            live.user_group_name(self.scope["user"].pk),
        )
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send(
            text_data=await database_sync_to_async(live.snapshot)(membership, self.take_id)
        )

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _membership(self):
        return await database_sync_to_async(access.live_membership)(
            self.scope["user"], slug=self.slug, take_id=self.take_id
        )

    async def take_changed(self, event):
        if self.take_id is None:
            html = event["list"][self.role] if "list" in event else event["progress"]["card"]
        elif event["take_id"] == self.take_id:
            html = event["detail"][self.role] if "detail" in event else event["progress"]["detail"]
        else:
            return
        await self.send(text_data=html)

    async def access_changed(self, event):
        """Membership changed or the user logged out: stop, or carry on with the new role."""
        session = self.scope.get("session")
        if event.get("session_key") and session and session.session_key == event["session_key"]:
            await self.close(code=4401)  # this browser logged out
            return
        membership = await self._membership()
        if membership is None:
            await self.close(code=4403)
        else:
            self.role = "edit" if membership.can_edit else "view"
