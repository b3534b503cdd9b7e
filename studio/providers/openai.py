"""OpenAI-compatible `/v1/videos` providers: OpenAI as last published, Azure, OpenRouter,
and other gateways, told apart by a profile (profiles.toml), not by code.

The transport (rate limit, retries, unknown outcomes) is http.py's. Gateways
that copy the contract differ in field names, status words and where the file
is; a profile maps those, and a model's catalogue ``wire`` adds its extras
(sound switch, seed, negative prompt).

Reference: docs/videos-api.md (spec, SDK behaviour, Azure), docs/backends.md §6.
"""

import logging
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import BinaryIO

import httpx

from .base import (
    NOT_CREATED,
    UNKNOWABLE,
    Job,
    OutcomeUnknown,
    Page,
    RemoteVideo,
    Retryable,
    Submission,
)
from .http import HttpProvider, data_url, mime_of, summary

log = logging.getLogger(__name__)

KNOWN_STATUSES = {"queued", "in_progress", "completed", "failed", "expired", "cancelled"}
PROFILES_FILE = Path(__file__).with_name("profiles.toml")


@dataclass(frozen=True)
class Profile:
    name: str
    label: str = ""
    auth: str = "bearer"
    seconds_field: str = "seconds"
    seconds_format: str = "string"
    size_mode: str = "size"
    image_mode: str = "multipart"
    list: bool = True
    status_synonyms: dict = field(default_factory=dict)
    asset_fields: tuple = ()
    content_path: str = "/videos/{id}/content"
    callback_field: str = ""
    webhook: str = "standard"
    check_path: str = ""  # for endpoints that can't list: an authenticated GET that can
    operations: tuple = ()  # native follow-ups: edit, remix, extend


@cache
def profiles() -> dict[str, dict]:
    return tomllib.loads(PROFILES_FILE.read_text())["profiles"]


def load_profile(name: str, overrides: dict | None = None) -> Profile:
    """A profile by name, with an endpoint's own corrections on top."""
    data = {**profiles()[name], **(overrides or {})}
    data["asset_fields"] = tuple(data.get("asset_fields") or ())
    data["operations"] = tuple(data.get("operations") or ())
    known = Profile.__dataclass_fields__
    return Profile(name=name, **{k: v for k, v in data.items() if k in known and k != "name"})


def _timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else None


def _dig(data, path: str):
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def parse_video(
    data: dict, poll_after: float | None = None, synonyms: dict | None = None, asset_fields=()
) -> RemoteVideo:
    """A Video object, tolerant of missing fields, explicit nulls and unknown statuses."""
    raw = str(data.get("status") or "")
    word = (synonyms or {}).get(raw.lower(), raw.lower())
    word = "cancelled" if word == "canceled" else word
    status = word if word in KNOWN_STATUSES else "unknown"
    error = data.get("error") or {}
    progress = data.get("progress")
    asset = next(
        (
            str(url)
            for path in asset_fields
            if isinstance(url := _dig(data, path), str) and url.startswith(("http://", "https://"))
        ),
        "",
    )
    keep = {k: data[k] for k in ("polling_url",) if isinstance(data.get(k), str)}
    if asset:
        keep["asset_url"] = asset
    return RemoteVideo(
        id=str(data.get("id") or ""),
        status=status,
        raw_status=raw,
        progress=int(progress) if isinstance(progress, int | float) else None,
        stage={"queued": "queued", "in_progress": "rendering"}.get(status, ""),
        model=str(data.get("model") or ""),
        prompt=str(data.get("prompt") or ""),
        size=str(data.get("size") or ""),
        seconds=str(data.get("seconds") or data.get("duration") or ""),
        created_at=_timestamp(data.get("created_at")),
        expires_at=_timestamp(data.get("expires_at")),
        error_code=summary(error.get("code") or "", 64) if isinstance(error, dict) else "",
        error_message=summary(
            (error.get("message") or "") if isinstance(error, dict) else error, 300
        ),
        poll_after=poll_after,
        asset_url=asset,
        data=keep,
    )


class OpenAICompatible(HttpProvider):
    kind = "openai"
    can_cancel = False  # the contract has no cancel

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        auth_style: str | None = None,
        profile: Profile | None = None,
        **transport,
    ):
        self.profile = profile or load_profile("openai")
        style = auth_style or self.profile.auth
        headers = (
            {"api-key": api_key} if style == "api-key" else {"Authorization": f"Bearer {api_key}"}
        )
        super().__init__(base_url=base_url, headers=headers, **transport)

    # --- the contract -------------------------------------------------------------

    def create(self, job: Job, submission: Submission | None = None) -> RemoteVideo:
        """POST /videos: JSON, or multipart with ``input_reference`` when there is an image.
        A native remix or extension of a finished job (``job.operation``) goes to its own
        route instead."""
        if job.operation:
            return self._follow_up(job)
        p = self.profile
        body: dict = {"prompt": job.prompt, "model": job.model}
        body[p.seconds_field] = job.seconds if p.seconds_format == "int" else str(job.seconds)
        if p.size_mode == "aspect_resolution":
            body["aspect_ratio"] = job.aspect or ("16:9" if job.width > job.height else "9:16")
            body["resolution"] = job.resolution or f"{min(job.width, job.height)}p"
        else:
            body["size"] = job.size
        body.update(wire_extras(job))
        if submission and submission.webhook_url and p.callback_field:
            body[p.callback_field] = submission.webhook_url
        if job.reference and p.image_mode == "frame_images":
            frames = [(job.reference, "first_frame"), (job.last_frame, "last_frame")]
            body["frame_images"] = [
                {"type": "image_url", "image_url": {"url": data_url(image)}, "frame_type": kind}
                for image, kind in frames
                if image
            ]
        if job.reference and p.image_mode == "multipart":
            data = job.reference.read_bytes()
            files = {"input_reference": (job.reference.name, data, mime_of(data))}
            fields = {k: str(v) for k, v in body.items()}
            response = self._send("POST", "/videos", idempotent=False, data=fields, files=files)
        else:
            response = self._send("POST", "/videos", idempotent=False, json=body)
        try:
            return self._video(response)
        except Retryable as error:
            # It said yes but we can't read how: the job may well exist. Never send it again.
            raise OutcomeUnknown(
                f"{error.message} (after a successful create)", "unreadable_answer"
            ) from error

    def retrieve(self, video: RemoteVideo | str) -> RemoteVideo:
        remote_id = video if isinstance(video, str) else video.id
        polling = "" if isinstance(video, str) else video.data.get("polling_url", "")
        if polling and polling.startswith(self.base):
            polled = self._send("GET", polling.removeprefix(self.base))
        else:
            polled = self._send("GET", f"/videos/{remote_id}")
        found = self._video(polled)
        return found if found.id else replace(found, id=remote_id)

    def list_recent(self, after: str | None = None, limit: int = 100) -> Page:
        params = {"limit": limit, "order": "desc", **({"after": after} if after else {})}
        body = self._json(self._send("GET", "/videos", params=params))
        videos = [self._parse(item) for item in body.get("data") or []]
        last = body.get("last_id") or (videos[-1].id if videos else None)
        return Page(videos=videos, has_more=bool(body.get("has_more")), last_id=last)

    def find_created(self, job: Job, submission: Submission) -> list[RemoteVideo] | str:
        """Videos a create with unknown outcome may have made (newest first), found by
        listing recent videos and matching prompt, model, size and length (the contract
        takes no id of ours), or NOT_CREATED, or UNKNOWABLE."""
        if not self.profile.list:
            return UNKNOWABLE
        since = submission.since.timestamp() - 120 if submission.since else 0
        after, candidates = None, []
        for _ in range(5):
            page = self.list_recent(after=after)
            older = False
            for video in page.videos:  # newest first
                if video.created_at and video.created_at.timestamp() < since:
                    older = True
                elif not video.prompt:
                    return UNKNOWABLE  # can't tell one job from another without the prompt
                elif _same_job(job, video):
                    candidates.append(video)
            if older or not page.has_more or not page.last_id:
                break
            after = page.last_id
        return candidates or NOT_CREATED

    def check(self) -> str:
        if self.profile.list or not self.profile.check_path:
            self.list_recent(limit=1)
            return "the key works and /videos responds"
        self._json(self._send("GET", self.profile.check_path))
        return f"the key works ({self.profile.check_path} responds)"

    def job_named(self, remote_id: str, job: Job) -> RemoteVideo:
        """A job known only by its id (a callback named it): checked like any other."""
        return RemoteVideo(id=remote_id, status="queued")

    def delete(self, video: RemoteVideo | str) -> None:
        self._send("DELETE", f"/videos/{video if isinstance(video, str) else video.id}")

    def cancel(self, video: RemoteVideo) -> bool:
        return False

    def download(
        self,
        video: RemoteVideo | str,
        sink: BinaryIO,
        limit: int | None = None,
        variant: str = "video",
    ):
        """The finished video, streamed to ``sink`` in 64 KiB pieces (never whole), stopped
        past ``limit`` bytes."""
        if not isinstance(video, str) and not video.asset_url and self.profile.asset_fields:
            video = self.retrieve(video)  # this endpoint names its file in the job
        if not isinstance(video, str) and video.asset_url:
            yield from self._download_from(video.asset_url, sink, limit)
            return
        remote_id = video if isinstance(video, str) else video.id
        path = self.profile.content_path.format(id=remote_id)
        params = {"variant": variant} if "?" not in path else None
        request = self._build("GET", path, params=params, headers={"Accept": "application/binary"})
        response = self._attempts(request, idempotent=True, stream=True)
        if response.is_redirect and (location := response.headers.get("location")):
            response.close()
            yield from self._download_from(str(response.url.join(location)), sink, limit)
            return
        yield from self._stream(response, sink, limit)

    def _follow_up(self, job: Job) -> RemoteVideo:
        """A native remix (edits where the flavour has them, else the older remix route) or
        extension of ``job.source_id``. Like a create, an answer that can't be read may
        hide a job that exists: never sent again blindly."""
        ops = self.profile.operations
        try:
            if job.operation == "extend":
                return self.extend(job.source_id, job.prompt, job.seconds)
            if "edit" in ops:
                return self.edit(job.source_id, job.prompt)
            return self.remix(job.source_id, job.prompt)
        except Retryable as error:
            if error.code != "bad_response":
                raise
            raise OutcomeUnknown(
                f"{error.message} (after a successful create)", "unreadable_answer"
            ) from error

    def remix(self, remote_id: str, prompt: str) -> RemoteVideo:
        response = self._send(
            "POST", f"/videos/{remote_id}/remix", idempotent=False, json={"prompt": prompt}
        )
        return self._video(response)

    def edit(self, remote_id: str, prompt: str) -> RemoteVideo:
        body = {"video": {"id": remote_id}, "prompt": prompt}
        return self._video(self._send("POST", "/videos/edits", idempotent=False, json=body))

    def extend(self, remote_id: str, prompt: str, seconds: int) -> RemoteVideo:
        body = {"video": {"id": remote_id}, "prompt": prompt, "seconds": str(seconds)}
        return self._video(self._send("POST", "/videos/extensions", idempotent=False, json=body))

    # --- answers ------------------------------------------------------------------

    def _parse(self, data: dict, hint: float | None = None) -> RemoteVideo:
        return parse_video(data, hint, self.profile.status_synonyms, self.profile.asset_fields)

    def _video(self, response: httpx.Response) -> RemoteVideo:
        hint = response.headers.get("openai-poll-after-ms")
        body = self._json(response)
        if not body.get("id"):
            raise Retryable("The provider's answer has no video id.", "bad_response")
        return self._parse(body, float(hint) / 1000 if hint and hint.isdigit() else None)


def wire_extras(job: Job) -> dict:
    """The model's optional fields its catalogue entry names: sound switch, seed, negative."""
    wire, extras = job.wire, {}
    if wire.get("audio"):
        extras[wire["audio"]] = job.sound
    if wire.get("seed"):
        extras[wire["seed"]] = job.seed
    if wire.get("negative_prompt") and job.negative_prompt:
        extras[wire["negative_prompt"]] = job.negative_prompt
    return extras


def _same_job(job: Job, video: RemoteVideo) -> bool:
    # An extension's job reports the stitched total, not the seconds it adds.
    lengths = {str(job.seconds), str(job.source_seconds + job.seconds)}
    return (
        video.prompt == job.prompt
        and (not video.model or video.model == job.model)
        and (not video.size or video.size == job.size)
        and (not video.seconds or str(video.seconds) in lengths)
    )
