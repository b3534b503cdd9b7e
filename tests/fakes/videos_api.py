"""A simulator of the OpenAI-compatible `/v1/videos` contract, with fault injection.

Speaks the contract as last published (docs/videos-api.md): create (JSON or
multipart with `input_reference`), retrieve, list with `after` paging, delete,
content with `variant`, remix, edits, extensions; Video objects with explicit
nulls; the error envelope. Jobs move queued → in_progress → completed or
failed on the simulator's clock. Faults: latency, rate limits (429 with
Retry-After), 5xx bursts, creates that are accepted but never answered, moderation
refusals at create, failures mid-run, webhooks signed per Standard Webhooks
(duplicated, delayed, out of order, dropped, retried), assets that expire, and
an Azure mode (api-key header, /openai/v1, 720p only, two running jobs at most).

It keeps a log of what it was asked, so tests can count calls, creates and
rate-limit violations. Used in-process through httpx's ASGI transport
(tests/fakes/transport.py) and as a real server on loopback (serve()).
"""

import asyncio
import base64
import hashlib
import hmac
import io
import itertools
import json
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

DEFAULT_KEY = "sk-test-simulator-0123456789"
SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
AZURE_SIZES = ("720x1280", "1280x720")
SECONDS = ("4", "8", "12")


@dataclass
class Faults:
    latency: tuple[float, float] = (0.0, 0.0)
    rate_limit: int | None = None  # requests per rate_window per key: more get 429
    rate_window: float = 60.0
    random_429: float = 0.0  # probability of a 429 on any request
    retry_after: float = 1.0  # seconds sent with injected 429s
    error_burst: float = 0.0  # probability that a request starts a burst of 5xx
    burst_length: int = 3
    create_hang: float = 0.0  # probability a create is accepted but never answered in time
    hang_seconds: float = 30.0
    create_500_after_accept: float = 0.0  # probability of a 500 after creating the job
    refuse_word: str = "REFUSE"  # in a prompt: 400 moderation at create
    fail_word: str = "FAILME"  # in a prompt: the job fails mid-run (technical)
    block_word: str = "BLOCKME"  # in a prompt: the job fails mid-run with moderation_blocked
    hang_word: str = "HANGME"  # in a prompt: its first create is accepted, then hangs
    expire_word: str = "EXPIREME"  # in a prompt: its assets vanish the moment it completes
    render_seconds: tuple[float, float] = (0.2, 0.5)
    expires_after: float | None = None  # assets vanish this long after completion
    poll_after_ms: int | None = None
    unknown_status_word: str = "WEIRD"  # in a prompt: reports a status the contract lacks
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_drop: float = 0.0
    webhook_duplicate: float = 0.0
    webhook_delay: tuple[float, float] = (0.0, 0.0)
    webhook_before_answer: bool = False  # the completion webhook beats the create answer
    azure: bool = False
    asset_bytes: int | None = None  # serve this many bytes of filler instead of an MP4
    asset_size: str | None = None  # serve MP4s of this size whatever was asked (cheap to probe)
    asset_endless: bool = False  # stream filler forever, with no Content-Length


@dataclass
class Video:
    id: str
    model: str
    prompt: str
    size: str
    seconds: str
    created: float
    duration: float
    key: str
    outcome: str = "completed"  # completed, failed, blocked, weird
    remixed_from: str | None = None
    deleted: bool = False
    notified: bool = False
    has_reference: bool = False

    def state(self, now: float) -> tuple[str, int]:
        elapsed = now - self.created
        if self.outcome in ("failed", "blocked") and elapsed >= self.duration / 2:
            return "failed", 50
        if elapsed >= self.duration:
            return ("rendering_weirdly", 99) if self.outcome == "weird" else ("completed", 100)
        if elapsed < self.duration * 0.1:
            return "queued", 0
        return "in_progress", int(elapsed / self.duration * 100)


@dataclass
class Call:
    at: float
    method: str
    path: str
    key: str
    status: int


class VideosSimulator:
    def __init__(
        self,
        faults: Faults | None = None,
        *,
        api_key: str = DEFAULT_KEY,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
    ):
        self.faults = faults or Faults()
        self.api_key = api_key
        self.clock = clock
        self.random = random.Random(seed)
        self.videos: dict[str, Video] = {}
        self.calls: list[Call] = []
        self.rate_violations = 0
        self.early_retries = 0
        self.hangs = 0  # creates accepted and then left unanswered for hang_seconds
        self.hung_prompts: set[str] = set()
        self.retry_not_before: dict[str, float] = {}
        self.burst_left = 0
        self.webhooks_sent: list[tuple[float, dict]] = []
        self.pending_webhooks: list[tuple[float, str, bytes, int]] = []  # (due, id, body, tries)
        self.deliver: Callable[[str, dict, bytes], int] | None = None
        self.lock = threading.RLock()
        self._counter = itertools.count(1)
        self._assets: dict[tuple[str, str], bytes] = {}
        self.app = Starlette(routes=self.routes())

    @property
    def prefix(self) -> str:
        return "/openai/v1" if self.faults.azure else "/v1"

    def routes(self) -> list:
        prefix = self.prefix
        return [
            Route(f"{prefix}/videos", self.create, methods=["POST"]),
            Route(f"{prefix}/videos", self.list, methods=["GET"]),
            Route(f"{prefix}/videos/edits", self.edit, methods=["POST"]),
            Route(f"{prefix}/videos/extensions", self.extend, methods=["POST"]),
            Route(f"{prefix}/videos/{{video_id}}", self.retrieve, methods=["GET"]),
            Route(f"{prefix}/videos/{{video_id}}", self.delete, methods=["DELETE"]),
            Route(f"{prefix}/videos/{{video_id}}/content", self.content, methods=["GET"]),
            Route(f"{prefix}/videos/{{video_id}}/remix", self.remix, methods=["POST"]),
        ]

    # --- helpers --------------------------------------------------------------------------

    @property
    def creates(self) -> list[Video]:
        return list(self.videos.values())

    def object(self, video: Video) -> dict:
        status, progress = video.state(self.clock())
        completed_at = video.created + video.duration if status == "completed" else None
        expires = 0.0 if self.faults.expire_word in video.prompt else self.faults.expires_after
        failed = status == "failed"
        return {
            "id": video.id,
            "object": "video",
            "model": video.model,
            "status": status,
            "progress": progress,
            "created_at": int(video.created),
            "completed_at": int(completed_at) if completed_at else None,
            "expires_at": int(completed_at + expires)
            if completed_at and expires is not None
            else None,
            "prompt": video.prompt,
            "size": video.size,
            "seconds": video.seconds,
            "remixed_from_video_id": video.remixed_from,
            "error": (
                {
                    "code": "moderation_blocked",
                    "message": "The request is blocked by our moderation system.",
                }
                if failed and video.outcome == "blocked"
                else {"code": "internal_error", "message": "The render failed on our side."}
                if failed
                else None
            ),
        }

    @staticmethod
    def error(
        status: int,
        message: str,
        code: str | None = None,
        kind="invalid_request_error",
        headers=None,
    ) -> JSONResponse:
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        return JSONResponse(body, status_code=status, headers=headers)

    async def gate(self, request: Request) -> tuple[str, JSONResponse | None]:
        """Latency, auth, rate limits and injected faults for every request."""
        low, high = self.faults.latency
        if high:
            await asyncio.sleep(self.random.uniform(low, high))
        key = self.credential(request)
        now = self.clock()
        request.state.arrived = now  # calls are logged at arrival, as a provider counts them
        with self.lock:
            if key != self.api_key:
                return key, self.log(
                    request, key, self.error(401, "Incorrect API key provided.", "invalid_api_key")
                )
            retry = request.headers.get("x-slate-retry-count", "0") != "0"
            if retry and now < self.retry_not_before.get(key, 0):
                self.early_retries += 1  # a retry that did not wait out the Retry-After
            if self.faults.rate_limit:
                window = [
                    c.at
                    for c in self.calls
                    if c.key == key and c.at > now - self.faults.rate_window and c.status != 429
                ]
                if len(window) >= self.faults.rate_limit:
                    self.rate_violations += 1
                    wait = min(window) + self.faults.rate_window - now
                    return key, self.log(request, key, self.too_many(key, wait))
            if self.faults.random_429 and self.random.random() < self.faults.random_429:
                return key, self.log(request, key, self.too_many(key, self.faults.retry_after))
            if self.burst_left or (
                self.faults.error_burst and self.random.random() < self.faults.error_burst
            ):
                self.burst_left = (self.burst_left or self.faults.burst_length) - 1
                return key, self.log(
                    request,
                    key,
                    self.error(503, "The engine is currently overloaded.", None, "server_error"),
                )
        return key, None

    def credential(self, request: Request) -> str:
        header = "api-key" if self.faults.azure else "authorization"
        return request.headers.get(header, "").removeprefix("Bearer ")

    def too_many(self, key: str, wait: float) -> JSONResponse:
        self.retry_not_before[key] = self.clock() + wait
        return self.error(
            429,
            "Rate limit reached for requests",
            "rate_limit_exceeded",
            "requests",
            headers={
                "retry-after-ms": str(int(wait * 1000)),
                "retry-after": str(max(int(wait + 0.999), 1)),
            },
        )

    def log(self, request: Request, key: str, response: Response) -> Response:
        arrived = getattr(request.state, "arrived", None) or self.clock()
        with self.lock:
            self.calls.append(
                Call(arrived, request.method, request.url.path, key, response.status_code)
            )
        return response

    def new_video(self, key: str, model: str, prompt: str, size: str, seconds: str, **extra):
        low, high = self.faults.render_seconds
        outcome = (
            "failed"
            if self.faults.fail_word in prompt
            else "blocked"
            if self.faults.block_word in prompt
            else "weird"
            if self.faults.unknown_status_word in prompt
            else "completed"
        )
        video = Video(
            id=f"video_{secrets.token_hex(16)}",
            model=model,
            prompt=prompt,
            size=size,
            seconds=seconds,
            created=self.clock(),
            duration=self.random.uniform(low, high),
            key=key,
            outcome=outcome,
            **extra,
        )
        with self.lock:
            self.videos[video.id] = video
        return video

    def respond(self, request: Request, key: str, video: Video) -> Response:
        headers = {}
        if self.faults.poll_after_ms:
            headers["openai-poll-after-ms"] = str(self.faults.poll_after_ms)
        return self.log(request, key, JSONResponse(self.object(video), headers=headers))

    # --- endpoints ----------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        key, refused = await self.gate(request)
        if refused:
            return refused
        if request.headers.get("content-type", "").startswith("multipart/"):
            async with request.form() as form:
                fields = {k: v for k, v in form.items() if isinstance(v, str)}
                reference = form.get("input_reference")
                image = (
                    await reference.read() if reference and not isinstance(reference, str) else None
                )
        else:
            try:
                fields = await request.json()
            except ValueError:
                return self.log(request, key, self.error(400, "We could not parse the JSON body."))
            image = None
        prompt = str(fields.get("prompt") or "")
        size = str(fields.get("size") or "720x1280")
        seconds = str(fields.get("seconds") or "4")
        model = str(fields.get("model") or "sora-2")
        problem = self.invalid(prompt, size, seconds, image)
        if problem:
            return self.log(request, key, problem)
        if self.faults.refuse_word in prompt:
            return self.log(
                request,
                key,
                self.error(
                    400,
                    "The request is blocked by our moderation system when checking inputs. "
                    "Possible reasons: sexual.",
                    "moderation_blocked",
                ),
            )
        if (
            self.faults.azure
            and sum(
                v.state(self.clock())[0] in ("queued", "in_progress") for v in self.videos.values()
            )
            >= 2
        ):
            return self.log(request, key, self.too_many(key, 2.0))
        video = self.new_video(key, model, prompt, size, seconds, has_reference=image is not None)
        if self.faults.webhook_before_answer:
            video.duration = 0
            await asyncio.to_thread(self.tick)  # delivery is blocking I/O: off the event loop
        first_hang = self.faults.hang_word in prompt and prompt not in self.hung_prompts
        if first_hang or (
            self.faults.create_hang and self.random.random() < self.faults.create_hang
        ):
            self.hung_prompts.add(prompt)
            self.log(request, key, Response(status_code=599))
            self.hangs += 1
            await asyncio.sleep(self.faults.hang_seconds)  # accepted, but no answer in time
        if self.faults.create_500_after_accept and (
            self.random.random() < self.faults.create_500_after_accept
        ):
            return self.log(
                request, key, self.error(500, "The server had an error.", None, "server_error")
            )
        return self.respond(request, key, video)

    def invalid(self, prompt, size, seconds, image) -> JSONResponse | None:
        sizes = AZURE_SIZES if self.faults.azure else SIZES
        if not 1 <= len(prompt) <= 32000:
            return self.error(400, "Invalid 'prompt': string must have 1 to 32000 characters.")
        if size not in sizes:
            return self.error(
                400,
                f"Invalid value: '{size}'. Supported values are: {', '.join(sizes)}.",
                "invalid_value",
            )
        if seconds not in SECONDS:
            return self.error(
                400,
                f"Invalid value: '{seconds}'. Supported values are: '4', '8', and '12'.",
                "invalid_value",
            )
        if image is not None:
            import io

            from PIL import Image

            try:
                with Image.open(io.BytesIO(image)) as picture:
                    dimensions = picture.size
            except Exception:
                return self.error(400, "Invalid image file.", "invalid_image")
            if f"{dimensions[0]}x{dimensions[1]}" != size:
                return self.error(400, "Inpaint image must match the requested width and height")
        return None

    async def retrieve(self, request: Request) -> Response:
        key, refused = await self.gate(request)
        if refused:
            return refused
        video = self.videos.get(request.path_params["video_id"])
        if not video or video.deleted:
            return self.log(request, key, self.error(404, "Video not found.", "not_found"))
        return self.respond(request, key, video)

    async def list(self, request: Request) -> Response:
        key, refused = await self.gate(request)
        if refused:
            return refused
        limit = min(int(request.query_params.get("limit") or 20), 100)
        ascending = request.query_params.get("order") == "asc"
        with self.lock:
            items = sorted(
                (v for v in self.videos.values() if not v.deleted and v.key == key),
                key=lambda v: v.created,
                reverse=not ascending,
            )
        if after := request.query_params.get("after"):
            ids = [v.id for v in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page = items[:limit]
        body = {
            "object": "list",
            "data": [self.object(v) for v in page],
            "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None,
            "has_more": len(items) > limit,
        }
        return self.log(request, key, JSONResponse(body))

    async def delete(self, request: Request) -> Response:
        key, refused = await self.gate(request)
        if refused:
            return refused
        video = self.videos.get(request.path_params["video_id"])
        if not video or video.deleted:
            return self.log(request, key, self.error(404, "Video not found.", "not_found"))
        video.deleted = True
        return self.log(
            request, key, JSONResponse({"id": video.id, "object": "video.deleted", "deleted": True})
        )

    async def content(self, request: Request) -> Response:
        key, refused = await self.gate(request)
        if refused:
            return refused
        video = self.videos.get(request.path_params["video_id"])
        if not video or video.deleted:
            return self.log(request, key, self.error(404, "Video not found.", "not_found"))
        now = self.clock()
        status, _ = video.state(now)
        if status != "completed":
            return self.log(
                request,
                key,
                self.error(409, f"Video is not ready yet (status {status}).", "video_not_ready"),
            )
        lifetime = 0.0 if self.faults.expire_word in video.prompt else self.faults.expires_after
        if lifetime is not None and now > video.created + video.duration + lifetime:
            return self.log(
                request, key, self.error(404, "The video's assets have expired.", "expired")
            )
        variant = request.query_params.get("variant", "video")
        if variant != "video":
            return self.log(request, key, Response(self.picture(), media_type="image/webp"))
        self.log(request, key, Response(status_code=200))
        if self.faults.asset_endless:

            async def endless():
                block = secrets.token_bytes(256 * 1024)
                while True:
                    yield block

            return StreamingResponse(endless(), media_type="video/mp4")
        data = self.asset(video)

        async def chunks():
            for start in range(0, len(data), 256 * 1024):
                yield data[start : start + 256 * 1024]

        return StreamingResponse(
            chunks(), media_type="video/mp4", headers={"content-length": str(len(data))}
        )

    async def remix(self, request: Request) -> Response:
        key, refused = await self.gate(request)
        if refused:
            return refused
        source = self.videos.get(request.path_params["video_id"])
        if not source or source.state(self.clock())[0] != "completed":
            return self.log(request, key, self.error(400, "Only completed videos can be remixed."))
        body = await request.json()
        video = self.new_video(
            key,
            source.model,
            str(body.get("prompt") or ""),
            source.size,
            source.seconds,
            remixed_from=source.id,
        )
        return self.respond(request, key, video)

    async def edit(self, request: Request) -> Response:
        key, refused = await self.gate(request)
        if refused:
            return refused
        body = await request.json()
        source = self.videos.get(str((body.get("video") or {}).get("id")))
        if not source:
            return self.log(request, key, self.error(404, "Video not found.", "not_found"))
        video = self.new_video(
            key, source.model, str(body.get("prompt") or ""), source.size, source.seconds
        )
        return self.respond(request, key, video)

    async def extend(self, request: Request) -> Response:
        key, refused = await self.gate(request)
        if refused:
            return refused
        body = await request.json()
        source = self.videos.get(str((body.get("video") or {}).get("id")))
        if not source:
            return self.log(request, key, self.error(404, "Video not found.", "not_found"))
        total = str(int(source.seconds) + int(body.get("seconds") or 4))
        video = self.new_video(key, source.model, str(body.get("prompt") or ""), source.size, total)
        return self.respond(request, key, video)

    # --- assets -----------------------------------------------------------------------------

    def asset(self, video: Video) -> bytes:
        if self.faults.asset_bytes:
            return secrets.token_bytes(16) * (self.faults.asset_bytes // 16)
        key = (self.faults.asset_size or video.size, video.seconds)
        if key not in self._assets:
            self._assets[key] = render_clip(*key[:1], int(video.seconds))
        return self._assets[key]

    @staticmethod
    def picture() -> bytes:
        import io

        from PIL import Image

        out = io.BytesIO()
        Image.new("RGB", (64, 36), (30, 30, 30)).save(out, "WEBP")
        return out.getvalue()

    # --- webhooks ---------------------------------------------------------------------------

    def tick(self) -> None:
        """Emit webhooks for jobs that ended, and deliver any that are due."""
        faults, now = self.faults, self.clock()
        if not (faults.webhook_url and faults.webhook_secret):
            return
        with self.lock:
            for video in self.videos.values():
                status, _ = video.state(now)
                if video.notified or status not in ("completed", "failed"):
                    continue
                video.notified = True
                if self.random.random() < faults.webhook_drop:
                    continue
                event = {
                    "id": f"evt_{secrets.token_hex(12)}",
                    "object": "event",
                    "created_at": int(now),
                    "type": f"video.{status}",
                    "data": {"id": video.id},
                }
                body = json.dumps(event).encode()
                webhook_id = f"wh_{secrets.token_hex(12)}"
                copies = 2 if self.random.random() < faults.webhook_duplicate else 1
                for _ in range(copies):
                    due = now + self.random.uniform(*faults.webhook_delay)
                    self.pending_webhooks.append((due, webhook_id, body, 0))
            due_now = [w for w in self.pending_webhooks if w[0] <= now]
            self.pending_webhooks = [w for w in self.pending_webhooks if w[0] > now]
        for _, webhook_id, body, tries in due_now:
            status = self.send_webhook(webhook_id, body)
            if not 200 <= status < 300 and tries < 5:  # retried with backoff, like OpenAI
                with self.lock:
                    self.pending_webhooks.append(
                        (now + 0.2 * 2**tries, webhook_id, body, tries + 1)
                    )

    def send_webhook(self, webhook_id: str, body: bytes) -> int:
        timestamp = int(self.clock())
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self.faults.webhook_secret, webhook_id, timestamp, body),
            "user-agent": "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)",
        }
        self.webhooks_sent.append((self.clock(), json.loads(body)))
        try:
            return self.deliver(self.faults.webhook_url, headers, body) if self.deliver else 0
        except Exception:
            return 0


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """A Standard Webhooks signature, computed independently of Slate's own code."""
    key = (
        base64.b64decode(secret.removeprefix("whsec_"))
        if secret.startswith("whsec_")
        else secret.encode()
    )
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


_CLIP_CACHE: dict[tuple[str, int], bytes] = {}


def render_clip(size: str, seconds: int) -> bytes:
    """A real MP4 for the simulator to serve, as a vendor's would be: H.264 video at the
    asked size, 24 fps, with an AAC tone; a moving gradient so frames differ. Encoded
    here with PyAV, independently of Slate's renderer (a renderer bug must not change
    what the "vendor" sends). Cached per size and length."""
    key = (size, seconds)
    if key not in _CLIP_CACHE:
        width, height = (int(p) for p in size.split("x"))
        fps, rate = 24, 48_000
        out = io.BytesIO()
        with av.open(out, "w", format="mp4") as container:
            video = container.add_stream("h264", rate=fps)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.options = {"preset": "ultrafast"}
            audio = container.add_stream("aac", rate=rate)
            audio.layout = "stereo"
            ramp = np.linspace(0, 255, width).astype(np.uint8)
            base = np.empty((height, width, 3), dtype=np.uint8)
            base[:, :, 0], base[:, :, 1], base[:, :, 2] = ramp, 255 - ramp, 96
            for index in range(seconds * fps):
                frame = np.roll(base, index * 4, axis=1)
                for packet in video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
            for packet in video.encode():
                container.mux(packet)
            samples = np.arange(seconds * rate, dtype=np.float32) / rate
            tone = (0.2 * np.sin(2 * np.pi * 440 * samples)).astype(np.float32)
            step = 1024
            for start in range(0, len(tone), step):
                chunk = tone[start : start + step]
                planar = np.stack([chunk, chunk])
                frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout="stereo")
                frame.sample_rate, frame.pts = rate, start
                for packet in audio.encode(frame):
                    container.mux(packet)
            for packet in audio.encode():
                container.mux(packet)
        _CLIP_CACHE[key] = out.getvalue()
    return _CLIP_CACHE[key]


def http_deliver(url: str, headers: dict, body: bytes) -> int:
    import httpx

    # Roomy: the studio under test answers slowly on a busy machine, and a delivery given up
    # on is tried again (a duplicate, should it have landed after all).
    return httpx.post(url, content=body, headers=headers, timeout=30).status_code


class RunningSimulator:
    """The simulator as a real server on loopback (uvicorn in a thread), ticking."""

    def __init__(self, simulator: VideosSimulator, port: int):
        import uvicorn

        self.simulator = simulator
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}{simulator.prefix}"
        config = uvicorn.Config(
            simulator.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.stopping = threading.Event()
        self.ticker = threading.Thread(target=self._tick, daemon=True)

    def _tick(self):
        while not self.stopping.wait(0.02):
            self.simulator.tick()

    def __enter__(self) -> "RunningSimulator":
        self.thread.start()
        deadline = time.monotonic() + 60  # a busy machine starts a thread slowly
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the simulator did not start")
            time.sleep(0.01)
        self.ticker.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.server.should_exit = True
        self.thread.join(5)


def serve(simulator: VideosSimulator) -> RunningSimulator:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    if simulator.deliver is None:
        simulator.deliver = http_deliver
    running = RunningSimulator(simulator, port)
    if hasattr(simulator, "base"):  # simulators that hand out absolute URLs (fal, OpenRouter)
        simulator.base = running.base_url.removesuffix(simulator.prefix)
    return running
