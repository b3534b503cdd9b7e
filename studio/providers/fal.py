"""fal's queue API: one contract (submit, status, result, cancel) for most live models.

Each model takes its own JSON input; the catalogue's ``wire`` says how this
model spells the duration, aspect, resolution, image, sound, seed and negative
prompt, so a new model is data. Status has no percentage: a queue position
while waiting, then "in progress"; Slate shows those and the elapsed time
instead of inventing one. A run that failed still ends ``COMPLETED`` with an
``error``; a 422 ``content_policy_violation`` is a refusal. Result files
expire quickly, so a completed take fetches its result and copies the video at
once. Webhooks are signed with Ed25519 by fal's published keys (signatures.py, falkeys.py).

Without webhooks a request is followed over its status stream (``live``):
server-sent events, one per change of the status object, the last one COMPLETED,
after which fal closes the stream (a comment line keeps it open every 15 s). The
engine's watcher reads it, one long call per take instead of a poll per look; a
stream fal refuses is polled for that look.

fal can't list jobs and takes no id of ours: a create whose answer was lost is
found again only through its webhook (the callback URL carries our key).

Reference: docs/backends.md §1.
"""

import asyncio
import contextlib
import json
import logging
import uuid
from dataclasses import replace
from typing import BinaryIO

import httpx
from httpx_sse import EventSource

from . import addresses, http
from .base import (
    UNKNOWABLE,
    BadRequest,
    Job,
    LiveUnavailable,
    NotFound,
    OutcomeUnknown,
    ProviderError,
    Refused,
    RemoteVideo,
    Retryable,
    Submission,
)
from .http import HttpProvider, data_url, summary

log = logging.getLogger(__name__)
DEFAULT_BASE = "https://queue.fal.run"
STATUS = {"IN_QUEUE": "queued", "IN_PROGRESS": "in_progress", "COMPLETED": "completed"}
REFUSAL_TYPES = ("content_policy_violation",)
# fal sends a comment every 15 s: a stream silent for three of them is dead.
STREAM_SILENCE = 45.0


def duration_value(seconds: int, form: str):
    match form:
        case "seconds_s":
            return f"{seconds}s"
        case "string":
            return str(seconds)
        case _:
            return seconds


def request_body(job: Job) -> dict:
    """The model's JSON input, spelled as its catalogue ``wire`` says."""
    wire = job.wire
    body: dict = {"prompt": job.prompt}
    if field := wire.get("duration", "duration"):
        body[field] = duration_value(job.seconds, wire.get("duration_format", "int"))
    if (field := wire.get("aspect")) and job.aspect:
        body[field] = job.aspect
    if (field := wire.get("resolution")) and job.resolution:
        body[field] = job.resolution
    if (field := wire.get("audio")) is not None and field:
        body[field] = job.sound
    if field := wire.get("seed"):
        body[field] = job.seed
    if (field := wire.get("negative_prompt")) and job.negative_prompt:
        body[field] = job.negative_prompt
    if job.reference and (field := wire.get("image")):
        body[field] = data_url(job.reference)
    if job.last_frame and (field := wire.get("last_frame")):
        body[field] = data_url(job.last_frame)
    return body


def owner_app(model: str) -> str:
    """Status, result and cancel URLs use only ``owner/app`` of a model id."""
    return "/".join(model.split("/")[:2])


class Fal(HttpProvider):
    kind = "fal"
    can_cancel = True
    retry_header = "x-fal-retryable"

    def __init__(self, *, base_url: str = DEFAULT_BASE, api_key: str, **transport):
        super().__init__(
            base_url=base_url or DEFAULT_BASE,
            headers={"Authorization": f"Key {api_key}"},
            **transport,
        )

    # --- the contract -------------------------------------------------------------

    def create(self, job: Job, submission: Submission) -> RemoteVideo:
        model = job.wire.get("image_model") if job.reference else ""
        model = model or job.model
        params = {"fal_webhook": submission.webhook_url} if submission.webhook_url else None
        response = self._send(
            "POST", f"/{model}", idempotent=False, json=request_body(job), params=params
        )
        try:
            data = self._json(response)
            if not data.get("request_id"):
                raise Retryable("fal's answer has no request_id.", "bad_response")
        except Retryable as error:
            raise OutcomeUnknown(
                f"{error.message} (after a successful submit)", "unreadable_answer"
            ) from error
        return self._status(data, model)

    def retrieve(self, video: RemoteVideo) -> RemoteVideo:
        url = video.data.get("status_url") or self._url(video, "/status")
        data = self._json(self._send("GET", url, params={"logs": "1"}))
        found = self._status(data, video.data.get("model", ""), known=video)
        if found.status != "completed":
            return found
        return self.settled(self._outcome(found, data))

    def result(self, video: RemoteVideo) -> RemoteVideo:
        """The finished request's output: where its video is (copied at once: it expires)."""
        url = video.data.get("response_url") or self._url(video, "")
        try:
            output = self._json(self._send("GET", url))
        except Refused as error:
            return replace(
                video, status="failed", error_code=error.code, error_message=error.message
            )
        except NotFound:
            return replace(video, status="expired")
        except BadRequest as error:
            return replace(
                video, status="failed", error_code=error.code, error_message=error.message
            )
        file = output.get("video") if isinstance(output.get("video"), dict) else {}
        asset = str(file.get("url") or "")
        if not asset.startswith(("https://", "http://")):
            return replace(
                video,
                status="failed",
                error_code="no_video",
                error_message="fal's result has no video file",
            )
        return replace(video, asset_url=asset, data={**video.data, "asset_url": asset})

    def find_created(self, job: Job, submission: Submission) -> str:
        return UNKNOWABLE  # no listing, no id of ours: only a webhook can tell (engine/submit.py)

    def job_named(self, remote_id: str, job: Job) -> RemoteVideo:
        """A request known only by its id (a callback named it): its URLs follow from the
        model it was submitted to."""
        model = (job.wire.get("image_model") if job.reference else "") or job.model
        return RemoteVideo(id=remote_id, status="queued", data={"model": model})

    def download(self, video: RemoteVideo, sink: BinaryIO, limit: int | None = None):
        if not video.asset_url and not video.data.get("asset_url"):
            video = self.result(video)
            if video.status == "expired":
                raise NotFound("fal no longer has this result.", "expired")
            if not video.asset_url:
                raise ProviderError(video.error_message or "fal's result has no video.", "no_video")
        yield from self._download_from(video.asset_url or video.data["asset_url"], sink, limit)

    def cancel(self, video: RemoteVideo) -> bool:
        """Ask fal to stop. A queued request is removed; a running one is asked to stop and
        ends on the model's own time (False: keep checking)."""
        url = video.data.get("cancel_url") or self._url(video, "/cancel")
        try:
            self._send("PUT", url)
        except NotFound:
            return True  # fal no longer has it: nothing left to stop
        except BadRequest:
            return False  # ALREADY_COMPLETED: it ends as it ended
        return False

    def delete(self, video: RemoteVideo) -> None:
        """fal keeps no job to delete: results expire on their own."""

    def check(self) -> str:
        """Whether the key works: asking about a request that can't exist is a 404 with a
        good key, a 401 with a bad one."""
        try:
            self._send("GET", f"/fal-ai/any/requests/{uuid.uuid4()}/status")
        except NotFound:
            return "the key works and the queue answers"
        return "the queue answers"

    # --- the status stream ----------------------------------------------------------

    def live(self, video: RemoteVideo, run) -> "StatusStream":
        """The request's status stream, its answer begun: sent like every call (the rate
        limiter, the lease, the address checks, counted once sent) by an asyncio client
        in the caller's event loop, which ``run`` runs a coroutine in (and waits for).
        Its first event is the request's state. Raises LiveUnavailable when fal refuses
        it or can't be reached."""
        url = (video.data.get("status_url") or self._url(video, "/status")) + "/stream"
        request = self._build(
            "GET", url, params={"logs": "1"}, headers={"accept": "text/event-stream"}
        )
        request.extensions["timeout"] = httpx.Timeout(STREAM_SILENCE, connect=5.0).as_dict()
        client = http.stream_client(self.private)

        async def send(request: httpx.Request) -> httpx.Response:
            response = await client.send(request, stream=True)
            if not response.is_success:
                await response.aread()  # an error answer is read like any other
            return response

        try:
            addresses.check_url(str(request.url), private=self.private)
            failure, response = self._attempt(request, True, True, 0, lambda r: run(send(r)))
            if failure is not None:
                raise failure
        except (ProviderError, TimeoutError) as error:
            run(client.aclose())
            raise LiveUnavailable(f"fal's status stream can't be opened ({error})") from error
        except BaseException:
            run(client.aclose())
            raise
        return StatusStream(response, client)

    def read(self, video: RemoteVideo, frame: str) -> tuple[bool, RemoteVideo]:
        """One status event read for ``video``: (whether the request ended, the request as
        now known; ``video`` itself when nothing shown changed)."""
        try:
            data = json.loads(frame)
        except ValueError:
            return False, video
        if not isinstance(data, dict):
            return False, video
        found = self._status(data, video.data.get("model", ""), known=video)
        if found.status == "completed":
            return True, self._outcome(found, data)
        same = ("status", "raw_status", "queue_position", "extra")
        if all(getattr(found, name) == getattr(video, name) for name in same):
            return False, video
        return False, found

    def settled(self, video: RemoteVideo) -> RemoteVideo:
        """The end the stream said, with its video's address (result files expire)."""
        return self.result(video) if video.status == "completed" else video

    # --- answers --------------------------------------------------------------------

    def _url(self, video: RemoteVideo, suffix: str) -> str:
        model = owner_app(video.data.get("model", ""))
        return f"{self.base}/{model}/requests/{video.id}{suffix}"

    @staticmethod
    def _outcome(found: RemoteVideo, data: dict) -> RemoteVideo:
        """A COMPLETED status: a failed run still ends COMPLETED, with an ``error``."""
        if not data.get("error"):
            return found
        kind = str(data.get("error_type") or "")
        return replace(
            found,
            status="failed",
            error_code=summary(kind, 64) or "failed",
            error_message=summary(data["error"], 300),
        )

    @staticmethod
    def _status(data: dict, model: str, known: RemoteVideo | None = None) -> RemoteVideo:
        raw = str(data.get("status") or "")
        status = STATUS.get(raw, "unknown")
        position = data.get("queue_position")
        logs = data.get("logs") if isinstance(data.get("logs"), list) else []
        last = next((str(e.get("message")) for e in reversed(logs) if isinstance(e, dict)), "")
        keep = {
            k: data[k]
            for k in ("status_url", "response_url", "cancel_url")
            if isinstance(data.get(k), str)
        }
        base = dict(known.data) if known else {}
        return RemoteVideo(
            id=str(data.get("request_id") or (known.id if known else "")),
            status=status,
            raw_status=raw,
            progress=None,  # fal reports none: never invent one
            stage={"queued": "queued", "in_progress": "rendering"}.get(status, ""),
            queue_position=int(position) if isinstance(position, int) else None,
            data={**base, **keep, **({"model": model} if model else {})},
            extra={"log": summary(last, 200)} if last else {},
        )


class StatusStream:
    """One request's status stream, read from the engine's watcher loop (watcher.py): a
    reader task puts each event's data in a queue, so a wait for events may be cut short
    without losing one."""

    tells_state = True  # its first event is the request's state: no look needed first

    def __init__(self, response: httpx.Response, client: httpx.AsyncClient):
        self.response, self.client = response, client
        self.arrived: asyncio.Queue[str | None] | None = None
        self.reader: asyncio.Task | None = None

    async def frames(self, timeout: float) -> list[str] | None:
        """The events' data that arrived: waits up to ``timeout`` for a first one, then
        takes every one already there. An empty list: nothing came; None: the stream ended
        (after COMPLETED, or broken off)."""
        if self.reader is None:
            self.arrived = asyncio.Queue()
            self.reader = asyncio.create_task(self._read())
        assert self.arrived is not None
        arrived: list[str] = []
        try:
            async with asyncio.timeout(timeout):
                first = await self.arrived.get()
        except TimeoutError:
            return arrived
        for data in (first, *_drain(self.arrived)):
            if data is None:
                if arrived:
                    self.arrived.put_nowait(None)  # said on the next call
                return arrived or None
            arrived.append(data)
        return arrived

    async def _read(self) -> None:
        assert self.arrived is not None
        try:
            async for event in EventSource(self.response).aiter_sse():
                if event.data:  # comments (fal's keep-alive) carry none
                    self.arrived.put_nowait(event.data)
        except Exception as error:  # a broken stream (or not one at all): its check looks
            log.info("fal's status stream broke off (%s); checking by polling", error)
        finally:
            self.arrived.put_nowait(None)

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
        await self.response.aclose()
        await self.client.aclose()


def _drain(arrived: asyncio.Queue) -> list:
    taken = []
    while not arrived.empty():
        taken.append(arrived.get_nowait())
    return taken
