"""daphne's server, refusing a request body over the limit before it is buffered, and
sending a streamed response no faster than the client reads it.

daphne (through Twisted) reads a whole request body into a file or memory, then queues all of
it for the application at once: an ASGI middleware only runs after that. Here the request
checks its Content-Length as soon as the headers are in, and counts a chunked body as it
arrives; past the limit it answers 413 and drops the rest of the body unread.

The other way, daphne writes each piece of a streamed response (a video, a zip of takes) into
Twisted's send buffer and takes the next at once: a client slower than the disk made the
server hold the difference (hundreds of MB for a 2 GB zip). Here a streamed response's request
registers as Twisted's producer, and the application's next ``send`` waits while Twisted says
the socket's buffer is full.
"""

import asyncio
import logging

from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

from studio.bodylimit import too_large

logger = logging.getLogger(__name__)

# After a 413 the connection stays open this long, reading and dropping what the client still
# sends: closing a socket with unread data resets it, and the client may never see the answer.
LINGER_SECONDS = 5.0


def _drop(data: bytes) -> None:
    pass


@implementer(IPushProducer)
class Pace:
    """What Twisted says of a response's socket: full (pause) or drained (resume)."""

    def __init__(self, paused: bool):
        self.flowing = asyncio.Event()
        if not paused:
            self.flowing.set()

    def pauseProducing(self):
        self.flowing.clear()

    def resumeProducing(self):
        self.flowing.set()

    def stopProducing(self):
        self.flowing.set()  # the connection is going: nothing left to wait for


class LimitedRequest(WebRequest):
    refused = False
    received = 0
    linger = None
    pace = None

    async def drained(self) -> None:
        """Wait until the socket can take more of this streamed response."""
        if self.pace is None:
            if self.finished or getattr(self, "channel", None) is None:
                return
            self.pace = Pace(paused=getattr(self.channel, "_waitingForTransport", False))
            self.registerProducer(self.pace, True)
        await self.pace.flowing.wait()

    def handle_reply(self, message):
        if (
            message.get("type") == "http.response.body"
            and not message.get("more_body", False)
            and self.pace is not None
            and self.producer is self.pace
        ):
            self.unregisterProducer()  # before finish(), which would log it as forgotten
        super().handle_reply(message)

    def gotLength(self, length):
        if length is not None and length > self.server.max_request_bytes:
            self.refuse()
        else:
            super().gotLength(length)

    def handleContentChunk(self, data):
        if self.refused:
            return
        self.received += len(data)
        if self.received > self.server.max_request_bytes:
            self.refuse()
        else:
            super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if not self.refused:  # the end of a refused chunked body can arrive in the same read
            super().requestReceived(command, path, version)

    def refuse(self):
        limit = self.server.max_request_bytes
        self.refused = True
        # Twisted would answer "100 Continue" right after this, inviting the body.
        self.requestHeaders.removeHeader(b"Expect")
        channel = self.channel
        channel.lineReceived = channel.rawDataReceived = _drop
        body = too_large(limit).encode()
        channel.transport.write(
            b"HTTP/1.1 413 Content Too Large\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
        )
        channel.transport.loseWriteConnection()
        self.linger = channel.callLater(LINGER_SECONDS, channel.transport.abortConnection)
        peer = channel.transport.getPeer()
        logger.warning(
            "Refused a request body over %d bytes from %s", limit, getattr(peer, "host", peer)
        )

    def connectionLost(self, reason):
        if self.linger is not None and self.linger.active():
            self.linger.cancel()
        if self.pace is not None:
            self.pace.flowing.set()  # a send waiting on a closed socket goes on (and ends)
        super().connectionLost(reason)


class LimitedHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = LimitedRequest
        return protocol


class LimitedServer(Server):
    """daphne's Server whose HTTP requests refuse a body over ``max_request_bytes``."""

    def __init__(self, *args, max_request_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_request_bytes = max_request_bytes

    async def handle_reply(self, protocol, message):
        await super().handle_reply(protocol, message)
        if (
            message.get("type") == "http.response.body"
            and message.get("more_body", False)
            and isinstance(protocol, LimitedRequest)
        ):
            await protocol.drained()

    # Server.run() makes its HTTP factory and listens with it in one method; taking over the
    # assignment is the one seam that does not copy run().
    @property
    def http_factory(self):
        return self._http_factory

    @http_factory.setter
    def http_factory(self, factory):
        self._http_factory = LimitedHTTPFactory(self)
