"""An in-memory channel layer that worker threads can publish to.

Channels' InMemoryChannelLayer keeps asyncio queues that belong to the server's
event loop. The embedded worker publishes from another thread, through the
push loop (studio/live.py): a put from there would not wake the server's loop, so a push could sit
unseen until some other event woke it. Sends from a foreign loop are handed to
the server's loop instead.
"""

import asyncio

from channels.layers import InMemoryChannelLayer


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._home_loop: asyncio.AbstractEventLoop | None = None

    def _remember_loop(self) -> None:
        self._home_loop = asyncio.get_running_loop()

    def _foreign_home(self) -> asyncio.AbstractEventLoop | None:
        home = self._home_loop
        if home is None or home.is_closed() or home is asyncio.get_running_loop():
            return None
        return home if home.is_running() else None

    async def receive(self, channel):
        self._remember_loop()
        return await super().receive(channel)

    async def group_add(self, group, channel):
        self._remember_loop()
        return await super().group_add(group, channel)

    async def send(self, channel, message):
        if home := self._foreign_home():
            future = asyncio.run_coroutine_threadsafe(super().send(channel, message), home)
            return await asyncio.wrap_future(future)
        return await super().send(channel, message)

    async def group_send(self, group, message):
        if home := self._foreign_home():
            future = asyncio.run_coroutine_threadsafe(super().group_send(group, message), home)
            return await asyncio.wrap_future(future)
        return await super().group_send(group, message)
