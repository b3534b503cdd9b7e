"""Websocket consumers: join the workspace's group for the member's role and forward.

One consumer per tab. Fragments arrive rendered, once per change (see live.py); a
consumer forwards them as they are. A take page forwards only its own take's
messages, and those of the takes of its family tree (the tree redraws); the browser
swaps in what its page shows. On connecting, a socket first
gets the current state, so nothing that happened between page load and connect is
missed.
"""

import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from . import access, live

RECHECK_SECONDS = 1.0


class LiveConsumer(AsyncWebsocketConsumer):
    groups_joined: tuple[str, ...] = ()
    role_group = ""
    take_id: int | None = None
    root_id: int | None = None
    role = ""
    checked_at = 0.0

    async def connect(self):
        kwargs = self.scope["url_route"]["kwargs"]
        self.slug, self.take_id = kwargs.get("slug"), kwargs.get("take_id")
        membership = await self._membership()
        if membership is None:
            await self.close()  # before accept: the handshake is refused (HTTP 403)
            return
        self.workspace_id, self.role = membership.workspace_id, membership.role
        if self.take_id is not None:
            self.root_id = await database_sync_to_async(live.root_of)(self.take_id)
        await self._join(live.role_of(membership))
        self.checked_at = time.monotonic()
        await self.accept()
        await self.send(
            text_data=await database_sync_to_async(live.snapshot)(membership, self.take_id)
        )

    async def disconnect(self, code):
        await self._leave()

    async def _join(self, role: str) -> None:
        self.role_group = live.group_name(self.workspace_id, role)
        self.groups_joined = (self.role_group, live.user_group_name(self.scope["user"].pk))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)

    async def _leave(self) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _membership(self):
        return await database_sync_to_async(access.live_membership)(
            self.scope["user"], slug=self.slug, take_id=self.take_id
        )

    async def take_changed(self, event):
        others = self.take_id is not None and event["take_id"] != self.take_id
        if others and event.get("root_id") != self.root_id:  # not a take of this page's tree
            return
        # Rendered for the role this socket had before a change of role: not for it now.
        if event.get("group", self.role_group) != self.role_group:
            return
        if not await self._still_member():
            return
        await self.send(text_data=event["html"])

    async def workspace_notice(self, event):
        # Studio pages only: a take's own page doesn't show workspace notices.
        if self.take_id is not None or event.get("group") != self.role_group:
            return
        if not await self._still_member():
            return
        await self.send(text_data=event["html"])

    async def user_notice(self, event):
        """The person's own news (their bell), sent to their group: the same on every page."""
        await self.send(text_data=event["html"])

    async def _still_member(self) -> bool:
        """Re-checked before forwarding (at most once a second: progress ticks come in
        bursts), so a membership removed by any means stops the flow even if its signal
        was missed; the signal itself closes the socket at once."""
        now = time.monotonic()
        if now - self.checked_at >= RECHECK_SECONDS:
            membership = await self._membership()
            role_group = membership and live.group_name(self.workspace_id, live.role_of(membership))
            if role_group != self.role_group:
                await self.access_changed({})
                return False
            self.checked_at = now
        return True

    async def access_changed(self, event):
        """Membership changed or the user logged out: stop, or carry on with the new role."""
        session = self.scope.get("session")
        if event.get("session_key") and session and session.session_key == event["session_key"]:
            await self.close(code=4401)  # this browser logged out
            return
        membership = await self._membership()
        if membership is None:
            await self.close(code=4403)
            return
        role_group = live.group_name(self.workspace_id, live.role_of(membership))
        if role_group != self.role_group:
            # Join the new role's group before leaving the old: no change falls between.
            old = self.role_group
            await self._join(live.role_of(membership))
            await self.channel_layer.group_discard(old, self.channel_name)
        if membership.role != self.role:
            self.role = membership.role
            html = await database_sync_to_async(live.role_changed_html)(membership, self.take_id)
            await self.send(text_data=html)
