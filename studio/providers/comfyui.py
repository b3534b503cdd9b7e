"""ComfyUI on a creator's own GPU: workflow templates in, an MP4 out.

Submit is ``POST /prompt`` with the filled template, our own ``prompt_id``
(the take's key, so a create whose answer was lost is found again by asking
for it) and a ``client_id`` the server sends that prompt's events to. Live
progress comes from the websocket (``watch``): ``progress`` steps of the node
running, ``executing`` nodes, and the end (``execution_success``,
``execution_error``, ``execution_interrupted``). Without it, ``/history`` and
``/queue`` tell the state: history is ``{}`` until a prompt ends, exactly as
for an unknown one, so the queue tells pending from lost. A reference image
goes up through ``/upload/image``; the video comes back through ``/view``.
Outputs may be listed under ``images``, ``gifs`` or ``videos``. Cancel removes
a pending prompt, or interrupts a running one, which stops between steps (the
take shows "cancelling" until it has).

Reference: docs/backends.md §7.
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import BinaryIO
from urllib.parse import urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import connect as aconnect
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from . import addresses, workflows
from .base import (
    NOT_CREATED,
    BadRequest,
    Job,
    LiveUnavailable,
    NotFound,
    OutcomeUnknown,
    ProviderError,
    RemoteVideo,
    Retryable,
    Submission,
)
from .http import HttpProvider, error_parts, summary

log = logging.getLogger(__name__)
OUTPUT_KEYS = ("videos", "gifs", "images")
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov")


def client_id(key: str) -> str:
    return f"slate-{key}"


def outputs_of(entry: dict) -> list[dict]:
    """Every file a finished prompt's history lists, whichever key its nodes used."""
    files = []
    for node_output in (entry.get("outputs") or {}).values():
        for key in OUTPUT_KEYS:
            for item in node_output.get(key) or []:
                if isinstance(item, dict) and item.get("filename"):
                    files.append(item)
    return files


def _messages(entry: dict) -> dict:
    status = entry.get("status") or {}
    return {m[0]: m[1] for m in status.get("messages") or [] if isinstance(m, list) and len(m) == 2}


class ComfyUI(HttpProvider):
    kind = "comfyui"
    can_cancel = True

    def __init__(self, *, base_url: str, api_key: str = "", **transport):
        # Core ComfyUI has no auth; a key is sent for a reverse proxy in front of it.
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        super().__init__(base_url=base_url, headers=headers, **transport)
        self._nodes: set[str] | None = None  # asked once per client (lacks)
        self._files: dict[str, set[str]] = {}

    # --- the contract -------------------------------------------------------------

    def create(self, job: Job, submission: Submission) -> RemoteVideo:
        template = (job.wire.get("image_model") if job.reference else "") or job.workflow
        try:
            workflow = workflows.load(template)
        except workflows.WorkflowInvalid as error:
            raise BadRequest(str(error), "bad_workflow") from error
        if job.reference and "image" not in workflow.slots:
            raise BadRequest(f"Workflow “{template}” has no image slot.", "bad_workflow")
        values = {
            "prompt": job.prompt,
            "negative_prompt": job.negative_prompt,
            "seed": job.seed,
            "width": job.width,
            "height": job.height,
            "frames": job.seconds * job.fps + workflow.frames_offset,
            "fps": job.fps,
            "filename_prefix": f"slate/take-{job.take_id}",
        }
        if not job.negative_prompt:
            values.pop("negative_prompt")  # keep the template's own
        if job.reference:
            values["image"] = self._upload(job)
        graph = workflow.fill(values)
        body = {
            "prompt": graph,
            "client_id": client_id(job.key),
            "prompt_id": job.key,
        }
        response = self._send("POST", "/prompt", idempotent=False, json=body)
        try:
            data = self._json(response)
            if not data.get("prompt_id"):
                raise Retryable("ComfyUI's answer has no prompt_id.", "bad_response")
        except Retryable as error:
            raise OutcomeUnknown(
                f"{error.message} (after the prompt was accepted)", "unreadable_answer"
            ) from error
        # Whether it runs already or waits behind others, only the queue can say: the take
        # is watched at once, and its first look asks (never "queued" on a guess).
        return RemoteVideo(
            id=str(data["prompt_id"]),
            status="queued",
            raw_status="submitted",
            stage="sent",
            data={
                "number": data.get("number"),
                "client_id": client_id(job.key),
                # Node ids → what they are, so progress can say "KSampler: step 12/30".
                "nodes": {node_id: node["class_type"] for node_id, node in graph.items()},
            },
        )

    def retrieve(self, video: RemoteVideo) -> RemoteVideo:
        for _ in range(2):  # it may end between the history and queue questions
            if entry := self._history(video.id):
                return self._finished(video, entry)
            queue = self._json(self._send("GET", "/queue"))
            running = [item[1] for item in queue.get("queue_running") or [] if len(item) > 1]
            pending = sorted(
                (item for item in queue.get("queue_pending") or [] if len(item) > 1),
                key=lambda item: item[0],
            )
            if video.id in running:
                stage = video.stage if video.raw_status == "running" else "rendering"
                return replace(
                    video,
                    status="in_progress",
                    raw_status="running",
                    stage=stage,
                    queue_position=None,
                )
            ids = [item[1] for item in pending]
            if video.id in ids:
                return replace(
                    video,
                    status="queued",
                    raw_status="pending",
                    stage="queued",
                    queue_position=ids.index(video.id),
                )
            # Neither: it may have ended between the two questions. Ask history once more.
        raise NotFound(
            "ComfyUI no longer knows this prompt: was the server restarted?", "not_found"
        )

    def find_created(self, job: Job, submission: Submission) -> list[RemoteVideo] | str:
        """The prompt id is ours: ask for it."""
        probe = RemoteVideo(id=job.key, status="unknown")
        try:
            return [self.retrieve(probe)]
        except NotFound:
            return NOT_CREATED

    def job_named(self, remote_id: str, job: Job) -> RemoteVideo:
        return RemoteVideo(id=remote_id, status="queued")

    def download(self, video: RemoteVideo, sink: BinaryIO, limit: int | None = None):
        output = video.data.get("output")
        if not output:
            video = self.retrieve(video)
            output = video.data.get("output")
        if not output:
            raise ProviderError("ComfyUI lists no video for this prompt.", "no_video")
        params = {
            "filename": output["filename"],
            "subfolder": output.get("subfolder", ""),
            "type": output.get("type", "output"),
        }
        request = self._build("GET", "/view", params=params)
        response = self._attempts(request, idempotent=True, stream=True)
        yield from self._stream(response, sink, limit)

    def cancel(self, video: RemoteVideo) -> bool:
        """Remove it from the queue (stopped: True), or interrupt it while it runs (False:
        it stops at the next step, and history then says so)."""
        queue = self._json(self._send("GET", "/queue"))
        if video.id in [item[1] for item in queue.get("queue_pending") or [] if len(item) > 1]:
            self._send("POST", "/queue", json={"delete": [video.id]})
            return True
        if video.id in [item[1] for item in queue.get("queue_running") or [] if len(item) > 1]:
            self._send("POST", "/interrupt", json={"prompt_id": video.id})
        return False

    def delete(self, video: RemoteVideo) -> None:
        self._send("POST", "/history", json={"delete": [video.id]})

    def check(self) -> str:
        stats = self._json(self._send("GET", "/system_stats"))
        version = (stats.get("system") or {}).get("comfyui_version") or "unknown version"
        return f"ComfyUI {summary(version, 40)} answers"

    def lacks(self, workflow: workflows.Workflow) -> list[str]:
        """What this server doesn't have for ``workflow``: nodes its ``/object_info`` doesn't
        list, model files ``/models/<folder>`` doesn't list. Empty: it has everything."""
        if self._nodes is None:
            self._nodes = set(self._json(self._send("GET", "/object_info")))
        missing = [
            f"node {kind} (#{node_id})"
            for kind, node_id in sorted(workflow.nodes.items())
            if kind not in self._nodes
        ]
        for folder, names in workflow.model_files().items():
            if folder not in self._files:
                try:
                    listed = self._send("GET", f"/models/{folder}").json()
                except NotFound:
                    listed = []  # a folder this server doesn't know: none of its files
                except ValueError as error:
                    raise Retryable(f"/models/{folder} isn't JSON.", "bad_response") from error
                if not isinstance(listed, list):
                    raise Retryable(f"/models/{folder} isn't a list of files.", "bad_response")
                self._files[folder] = {str(name) for name in listed}
            missing += [f"{folder}/{name}" for name in names if name not in self._files[folder]]
        return missing

    # --- live progress -------------------------------------------------------------

    def live(self, video: RemoteVideo, run) -> "LiveEvents":
        """The prompt's websocket, connected (to an address checked like every HTTP call)
        and opened in the caller's event loop, which ``run`` runs a coroutine in (and
        waits for). Raises LiveUnavailable when the server can't be reached or refuses
        the handshake."""
        where = urlsplit(self.base)
        port = where.port or (443 if where.scheme == "https" else 80)
        try:
            sock = addresses.open_socket(
                where.hostname or "", port, private=self.private, timeout=5
            )
        except (OSError, addresses.AddressRefused) as error:
            raise LiveUnavailable(f"ComfyUI's websocket can't be opened ({error})") from error
        events = LiveEvents(self._live_url(video), sock, self.auth)
        try:
            run(events.open())
        except TimeoutError:
            run(events.close())
            raise
        return events

    def read(self, video: RemoteVideo, frame: str | bytes) -> tuple[bool, RemoteVideo]:
        """One websocket frame read for ``video``: (whether the prompt ended, the job as
        now known). Frames about other prompts and preview images change nothing."""
        event = _event(frame) if isinstance(frame, str) else None
        if not event or event[1].get("prompt_id") not in (None, video.id):
            return False, video
        return self._apply(video, *event)

    def settled(self, video: RemoteVideo) -> RemoteVideo | None:
        """The end state once history has it (it is written just after the end event)."""
        return self._settled(video)

    def _live_url(self, video: RemoteVideo) -> str:
        scheme, netloc, path, _, _ = urlsplit(self.base)
        return urlunsplit(
            (
                "wss" if scheme == "https" else "ws",
                netloc,
                f"{path}/ws",
                f"clientId={video.data.get('client_id') or client_id(video.id)}",
                "",
            )
        )

    def watch(
        self,
        video: RemoteVideo,
        on_update: Callable[[RemoteVideo], bool],
        seconds: float,
        heartbeat: Callable[[], bool] = lambda: True,
    ) -> RemoteVideo | None:
        """Follow the prompt's websocket events for up to ``seconds`` in the calling thread
        (the engine's watcher follows many at once instead; this blocking slice is kept for
        SLATE_WATCHER=false), calling ``on_update`` with each change and ``heartbeat``
        every second (either returns False to stop watching). Returns the prompt's end
        state when an end event arrived, its state when it waits behind others in the queue
        (nothing to watch until its turn; the caller looks again when the queue moves), else
        None (the caller checks history)."""
        url = self._live_url(video)
        deadline = time.monotonic() + seconds
        current = video
        opened = False
        try:
            where = urlsplit(self.base)
            port = where.port or (443 if where.scheme == "https" else 80)
            sock = addresses.open_socket(
                where.hostname or "", port, private=self.private, timeout=5
            )
            with connect(
                url, sock=sock, open_timeout=5, additional_headers=self.auth, max_size=2**24
            ) as ws:
                opened = True
                # Events sent before we connected are gone: one look at the state first.
                current = self.retrieve(current)
                if current.status in ("completed", "failed", "cancelled"):
                    return current
                if current.raw_status == "pending":
                    return current  # behind others: nothing to watch until its turn
                if not on_update(current):
                    return None
                while (left := deadline - time.monotonic()) > 0:
                    if not heartbeat():
                        return None
                    try:
                        frame = ws.recv(timeout=min(left, 1.0))
                    except TimeoutError:
                        continue
                    before = current
                    ended, current = self.read(current, frame)
                    if ended:
                        return self._settled(current)
                    if current is not before and not on_update(current):
                        return None
        except (OSError, WebSocketException, TimeoutError, addresses.AddressRefused) as error:
            if not opened:
                raise LiveUnavailable(f"ComfyUI's websocket can't be opened ({error})") from error
            log.info("ComfyUI websocket dropped (%s); checking by polling", error)
        return None

    def _settled(self, video: RemoteVideo) -> RemoteVideo | None:
        """The end state once history has it (it is written just after the end event)."""
        for _ in range(10):
            final = self.retrieve(video)
            if final.status not in ("queued", "in_progress"):
                return final
            self.sleep(0.2)
        return None

    @staticmethod
    def _apply(video: RemoteVideo, kind: str, data: dict) -> tuple[bool, RemoteVideo]:
        """One websocket event applied: (whether the prompt ended, the job as now known)."""
        names = video.data.get("nodes") or {}

        def node_name(node) -> str:
            return names.get(str(node)) or f"node {node}"

        def running(**changes) -> RemoteVideo:
            # It executes: out of the queue, whatever the last look said.
            return replace(
                video, status="in_progress", raw_status="running", queue_position=None, **changes
            )

        match kind:
            case "execution_start":
                return False, running(stage="starting")
            case "executing" if data.get("node") is None:
                return True, video  # older servers end with executing: null
            case "executing":
                node = data.get("display_node") or data.get("node")
                return False, running(stage=node_name(node)[:60])
            case "progress":
                value, most = data.get("value"), data.get("max")
                if isinstance(value, int | float) and isinstance(most, int | float) and most > 0:
                    return False, running(
                        progress=int(100 * value / most),
                        stage=f"{node_name(data.get('node'))}: step {int(value)}/{int(most)}"[:60],
                    )
            case "progress_state":
                nodes = data.get("nodes") or {}
                active = [n for n in nodes.values() if n.get("state") == "running"]
                if active:
                    node = active[0].get("display_node_id") or active[0].get("node_id")
                    if node is not None:
                        return False, running(stage=node_name(node)[:60])
            case "execution_success" | "execution_error" | "execution_interrupted":
                return True, video
        return False, video

    # --- answers --------------------------------------------------------------------

    def _history(self, prompt_id: str) -> dict | None:
        body = self._json(self._send("GET", f"/history/{prompt_id}"))
        entry = body.get(prompt_id)
        return entry if isinstance(entry, dict) else None

    def _finished(self, video: RemoteVideo, entry: dict) -> RemoteVideo:
        status = entry.get("status") or {}
        messages = _messages(entry)
        if "execution_interrupted" in messages:
            return replace(video, status="cancelled", raw_status="interrupted", stage="")
        if status.get("status_str") == "error" or "execution_error" in messages:
            error = messages.get("execution_error") or {}
            detail = str(error.get("exception_message") or "the workflow failed").strip()
            node = error.get("node_type") or error.get("node_id") or ""
            return replace(
                video,
                status="failed",
                raw_status="error",
                error_code=str(error.get("exception_type") or "execution_error")[:64],
                error_message=summary(f"{node}: {detail}" if node else detail, 300),
            )
        files = outputs_of(entry)
        video_file = next(
            (f for f in files if f["filename"].lower().endswith(VIDEO_SUFFIXES)), None
        )
        if video_file is None:
            names = ", ".join(f["filename"] for f in files) or "nothing"
            return replace(
                video,
                status="failed",
                raw_status="no_video",
                error_code="no_video",
                error_message=f"the workflow saved {names}, no MP4: save with SaveVideo (mp4)",
            )
        return replace(
            video,
            status="completed",
            raw_status="success",
            progress=100,
            stage="",
            data={**video.data, "output": video_file},
        )

    def _upload(self, job: Job) -> str:
        """The first frame into ComfyUI's input folder; the name LoadImage should read."""
        data = job.reference.read_bytes()
        files = {"image": (f"slate-{job.key}.jpg", data, "image/jpeg")}
        response = self._send(
            "POST",
            "/upload/image",
            files=files,
            data={"type": "input", "subfolder": "slate", "overwrite": "true"},
        )
        body = self._json(response)
        name = str(body.get("name") or "")
        if not name:
            raise Retryable("ComfyUI didn't say where it put the image.", "bad_response")
        sub = str(body.get("subfolder") or "")
        return f"{sub}/{name}" if sub else name

    def _failure(self, response: httpx.Response, idempotent: bool):
        """ComfyUI's 400 names the nodes the graph failed on: say every one, and why (a graph
        missing three model files names all three; an unknown node keeps its id)."""
        if response.status_code == 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            body = body if isinstance(body, dict) else {}
            _, _, message = error_parts(response)
            error = body.get("error") if isinstance(body.get("error"), dict) else {}
            said = [message.rstrip(". ")]  # its own full stop would double ours
            if details := summary(error.get("details") or "", 120):
                said.append(details)  # "Node ID '#5'": which node is meant
            nodes = body.get("node_errors")
            for node_id, info in nodes.items() if isinstance(nodes, dict) else ():
                info = info if isinstance(info, dict) else {}
                for problem in info.get("errors") or [{}]:
                    problem = problem if isinstance(problem, dict) else {}
                    words = " ".join(
                        str(problem.get(key) or "") for key in ("message", "details")
                    ).strip()
                    said.append(f"Node {node_id} ({info.get('class_type', '?')}): {words}")
            raise BadRequest(
                summary(f"ComfyUI refused the workflow: {'. '.join(said)}", 600), "bad_workflow"
            )
        return super()._failure(response, idempotent)


class LiveEvents:
    """One prompt's websocket, read from an asyncio event loop: many are followed at once
    in one thread (ComfyUI sends a prompt's events only to the socket of the client id it
    was submitted with, and a second socket with that id replaces the first, so each
    prompt has its own)."""

    def __init__(self, url: str, sock, headers: dict):
        self.url, self.sock, self.headers = url, sock, headers
        self.connection = None

    async def open(self) -> None:
        """The handshake; raises LiveUnavailable when the server refuses it."""
        try:
            self.connection = await aconnect(
                self.url,
                sock=self.sock,
                open_timeout=5,
                additional_headers=self.headers,
                max_size=2**24,
            )
        except (OSError, WebSocketException, TimeoutError) as error:
            self.sock.close()
            raise LiveUnavailable(f"ComfyUI's websocket can't be opened ({error})") from error

    async def frames(self, timeout: float) -> list[str | bytes] | None:
        """What has arrived: waits up to ``timeout`` for a first frame, then takes every
        frame already there. An empty list: nothing came; None: the socket closed."""
        assert self.connection is not None
        arrived = []
        try:
            async with asyncio.timeout(timeout):
                arrived.append(await self.connection.recv())
            while True:  # recv is cancellation-safe: a frame not yet whole stays queued
                async with asyncio.timeout(0):
                    arrived.append(await self.connection.recv())
        except TimeoutError:
            return arrived
        except (OSError, WebSocketException) as error:
            log.info("ComfyUI websocket dropped (%s); checking by polling", error)
            return arrived or None

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
        else:
            self.sock.close()


def _event(frame: str) -> tuple[str, dict] | None:
    try:
        message = json.loads(frame)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("data"), dict):
        return None
    return str(message.get("type") or ""), message["data"]
