"""A simulator of OpenRouter's video API (docs/backends.md §6), built on the /v1/videos one.

Differences it enforces: base ``/api/v1``; create answers 202 with ``polling_url``
and status ``pending``; ``duration`` is an integer and the shape is
``aspect_ratio`` + ``resolution``; a first frame comes as ``frame_images``
(a data URL with ``frame_type``); no listing (``GET /videos`` is a 404);
``GET /videos/{id}/content?index=0`` streams the MP4; per-job ``callback_url``
webhooks, ``video.generation.{completed,failed}``, signed
``X-OpenRouter-Signature: t=<ts>,v1=<hex HMAC-SHA256 of "<ts>,<body>">`` with
an ``X-OpenRouter-Idempotency-Key`` of job and status. The separator and hex
encoding are the unconfirmed part of the docs; both sides change in one place.
"""

import hashlib
import hmac
import json
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .videos_api import Faults, Video, VideosSimulator

DEFAULT_KEY = "sk-or-v1-simulator-0123456789"
SHAPES = {
    ("16:9", "720p"): "1280x720",
    ("9:16", "720p"): "720x1280",
    ("16:9", "1080p"): "1920x1080",
    ("9:16", "1080p"): "1080x1920",
}


class OpenRouterSimulator(VideosSimulator):
    prefix = "/api/v1"

    def __init__(self, faults: Faults | None = None, *, api_key: str = DEFAULT_KEY, **kwargs):
        super().__init__(faults, api_key=api_key, **kwargs)
        self.bodies: dict[str, dict] = {}
        self.callbacks: dict[str, str] = {}
        self.base = "http://openrouter.sim"

    def routes(self) -> list:
        p = self.prefix
        return [
            Route(f"{p}/videos", self.create, methods=["POST"]),
            Route(f"{p}/videos", self.no_list, methods=["GET"]),
            Route(f"{p}/key", self.key_info, methods=["GET"]),
            Route(f"{p}/videos/{{video_id}}", self.retrieve, methods=["GET"]),
            Route(f"{p}/videos/{{video_id}}/content", self.content, methods=["GET"]),
        ]

    async def key_info(self, request: Request) -> Response:
        """``GET /key``: what OpenRouter says about the key in use (a 401 without one)."""
        key, refused = await self.gate(request)
        if refused:
            return refused
        return self.log(
            request, key, JSONResponse({"data": {"label": key[:12] + "…", "usage": 0.0}})
        )

    async def no_list(self, request: Request) -> Response:
        return JSONResponse({"error": {"message": "Not Found", "code": 404}}, status_code=404)

    async def create(self, request: Request) -> Response:
        key, refused = await self.gate(request)
        if refused:
            return refused
        try:
            body = await request.json()
        except ValueError:
            return self.log(request, key, self.error(400, "Body must be JSON."))
        prompt = str(body.get("prompt") or "")
        duration = body.get("duration")
        if not prompt or not isinstance(duration, int) or isinstance(duration, bool):
            return self.log(
                request, key, self.error(400, "prompt and an integer duration are required.")
            )
        shape = (body.get("aspect_ratio"), body.get("resolution"))
        if shape not in SHAPES:
            return self.log(request, key, self.error(400, f"Unsupported shape {shape}."))
        for frame in body.get("frame_images") or []:
            url = (frame.get("image_url") or {}).get("url", "")
            if frame.get("frame_type") not in ("first_frame", "last_frame") or not url.startswith(
                "data:image/"
            ):
                return self.log(request, key, self.error(400, "Invalid frame_images entry."))
        if self.faults.refuse_word in prompt:
            return self.log(
                request,
                key,
                self.error(
                    400, "Prompt flagged by content moderation.", "content_policy_violation"
                ),
            )
        video = self.new_video(key, str(body.get("model")), prompt, SHAPES[shape], str(duration))
        self.bodies[video.id] = body
        if body.get("callback_url"):
            self.callbacks[video.id] = str(body["callback_url"])
        answer = {
            "id": video.id,
            "polling_url": f"{self.base}{self.prefix}/videos/{video.id}",
            "status": "pending",
        }
        return self.log(request, key, JSONResponse(answer, status_code=202))

    def object(self, video: Video) -> dict:
        data = super().object(video)
        data["status"] = {"queued": "pending"}.get(data["status"], data["status"])
        data["polling_url"] = f"{self.base}{self.prefix}/videos/{video.id}"
        data.pop("seconds", None)
        data["duration"] = int(video.seconds)
        if data["status"] == "completed":
            data["unsigned_urls"] = [f"{self.base}{self.prefix}/videos/{video.id}/content?index=0"]
            data["usage"] = {"cost": 0.4}
        return data

    # --- callbacks ----------------------------------------------------------------------

    def tick(self) -> None:
        now = self.clock()
        secret = self.faults.webhook_secret
        if not secret:
            return
        with self.lock:
            for video in self.videos.values():
                status, _ = video.state(now)
                url = self.callbacks.get(video.id)
                if video.notified or not url or status not in ("completed", "failed"):
                    continue
                video.notified = True
                if self.random.random() < self.faults.webhook_drop:
                    continue
                body = json.dumps(
                    {"type": f"video.generation.{status}", "data": self.object(video)}
                ).encode()
                copies = 2 if self.random.random() < self.faults.webhook_duplicate else 1
                for _ in range(copies):
                    due = now + self.random.uniform(*self.faults.webhook_delay)
                    self.pending_webhooks.append((due, f"{video.id}-{status}|{url}", body, 0))
            due_now = [w for w in self.pending_webhooks if w[0] <= now]
            self.pending_webhooks = [w for w in self.pending_webhooks if w[0] > now]
        for _, tag, body, tries in due_now:
            idempotency, url = tag.split("|", 1)
            status = self.send_callback(url, idempotency, body)
            if not 200 <= status < 300 and tries < 5:
                with self.lock:
                    self.pending_webhooks.append((now + 0.2 * 2**tries, tag, body, tries + 1))

    def signed_headers(self, body: bytes, idempotency: str, at: int | None = None) -> dict:
        timestamp = int(time.time() if at is None else at)
        mac = hmac.new(
            self.faults.webhook_secret.encode(), f"{timestamp},".encode() + body, hashlib.sha256
        )
        return {
            "content-type": "application/json",
            "x-openrouter-signature": f"t={timestamp},v1={mac.hexdigest()}",
            "x-openrouter-idempotency-key": idempotency,
        }

    def send_callback(self, url: str, idempotency: str, body: bytes) -> int:
        self.webhooks_sent.append((self.clock(), json.loads(body)))
        try:
            headers = self.signed_headers(body, idempotency)
            return self.deliver(url, headers, body) if self.deliver else 0
        except Exception:
            return 0
