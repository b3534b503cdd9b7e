"""A fake ComfyUI server (docs/backends.md §7), replaying the shapes recorded there.

Routes: ``POST /prompt`` (validation like the real server: an unknown node is a 400
naming its id, and every model file it doesn't have is listed in ``node_errors``),
``GET /history/{id}`` (``{}`` until done), ``GET /queue``, ``POST /queue`` (delete),
``POST /interrupt`` (cooperative: noticed between steps), ``POST /upload/image``,
``GET /view``, ``GET /system_stats``, ``GET /object_info`` (the nodes it has),
``GET /models`` and ``GET /models/{folder}`` (the model files it has: ``models``),
and the websocket ``/ws?clientId=`` with ``status``,
``execution_start``, ``executing``, ``progress``, ``progress_state``,
``executed``, ``execution_success``, ``execution_error`` and
``execution_interrupted`` events, sent to the client that queued the prompt.

Prompts run one at a time, like the real server; one queued while nothing runs or
waits is running (``queue_running``) before ``POST /prompt`` answers, so its first
events go out before its client can have connected. ``restart()`` forgets every
prompt (queue, the one running, history) and drops every websocket, as a restarted
server does; the files it wrote stay. ``refuse_sockets`` refuses that many websocket
handshakes, then accepts again; ``no_websocket`` refuses them all. The graph is really executed
for the nodes the weight-free templates use: frames of the EmptyImage colour (or
the uploaded image) at the asked size and count, encoded to H.264 at the asked
fps, so the MP4 that comes back is what the template says. A prompt whose text
holds FAILME fails in a node; ``steps`` makes a render report sampler progress.
"""

import asyncio
import contextlib
import io
import json
import time
from collections import deque
from dataclasses import dataclass, field
from types import SimpleNamespace

import av
import numpy as np
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

KNOWN_NODES = {
    "EmptyImage",
    "CreateVideo",
    "SaveVideo",
    "SaveWEBM",
    "SaveAnimatedWEBP",
    "PrimitiveStringMultiline",
    "LoadImage",
    "ImageScale",
    "RepeatImageBatch",
    # Model nodes exist, but this server has no model files for them (``models``).
    "UNETLoader",
    "CLIPLoader",
    "VAELoader",
    "CheckpointLoaderSimple",
    "CLIPTextEncode",
    "Wan22ImageToVideoLatent",
    "ModelSamplingSD3",
    "KSampler",
    "VAEDecode",
    "LTXVConditioning",
    "EmptyLTXVLatentVideo",
    "LTXVScheduler",
    "KSamplerSelect",
    "RandomNoise",
    "CFGGuider",
    "SamplerCustomAdvanced",
}
# LTX-2's text encoder loader came after 0.3.64: the shipped LTX-2 template can't run here.
# The inputs that name a model file, and the folder under models/ each is looked up in.
MODEL_INPUTS = {
    "unet_name": "diffusion_models",
    "clip_name": "text_encoders",
    "vae_name": "vae",
    "ckpt_name": "checkpoints",
    "text_encoder": "text_encoders",
}
FOLDERS = ("checkpoints", "diffusion_models", "text_encoders", "vae", "loras")


@dataclass
class ComfyFaults:
    render_seconds: float = 0.3  # how long a render takes, spread over its steps
    steps: int = 0  # sampler-like progress events per render (the smoke graph sends none)
    output_key: str = "images"  # where history lists the file: images, gifs or videos
    save_format: str = "mp4"  # what SaveVideo writes (mp4, or webm to test refusal)
    fail_word: str = "FAILME"
    garbage: bool = False  # answer every request with an HTML error page
    down: bool = False  # refuse connections (the test stops the server instead)
    no_websocket: bool = False  # refuse the websocket handshake (a proxy that drops them)
    refuse_sockets: int = 0  # refuse this many websocket handshakes, then accept again


@dataclass
class Job:
    prompt_id: str
    number: int
    graph: dict
    client_id: str
    interrupted: bool = False
    status: str = "pending"  # pending, running, done


@dataclass
class ComfySimulator:
    faults: ComfyFaults = field(default_factory=ComfyFaults)
    # The model files in each folder under models/ (none: the weight-free templates need none).
    models: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self):
        self.pending: deque[Job] = deque()
        self.running: Job | None = None
        self.history: dict[str, dict] = {}
        self.files: dict[tuple[str, str, str], bytes] = {}
        self.uploads: dict[str, bytes] = {}
        self.sockets: dict[str, set[WebSocket]] = {}
        self.counter = 0
        self.submitted: list[str] = []  # every prompt id queued, duplicates included
        self.jobs: list[Job] = []
        self.interrupts = 0
        self.refused_sockets = 0
        self.accepted_sockets = 0
        self.restarts = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.wake: asyncio.Event | None = None
        self.worker: asyncio.Task | None = None
        self.app = Starlette(
            routes=[
                Route("/prompt", self.prompt, methods=["POST"]),
                Route("/history/{prompt_id}", self.get_history, methods=["GET"]),
                Route("/queue", self.get_queue, methods=["GET"]),
                Route("/queue", self.post_queue, methods=["POST"]),
                Route("/interrupt", self.interrupt, methods=["POST"]),
                Route("/upload/image", self.upload, methods=["POST"]),
                Route("/view", self.view, methods=["GET"]),
                Route("/system_stats", self.system_stats, methods=["GET"]),
                Route("/object_info", self.object_info, methods=["GET"]),
                Route("/models", self.model_folders, methods=["GET"]),
                Route("/models/{folder}", self.model_files, methods=["GET"]),
                WebSocketRoute("/ws", self.websocket),
            ]
        )

    # --- plumbing -------------------------------------------------------------------

    prefix = ""  # served at the root, like a real ComfyUI
    deliver = None  # no webhooks (tests/fakes/videos_api.serve runs any simulator)

    def tick(self) -> None:
        """Nothing to do between requests: prompts run on the server's own loop."""

    def garbage(self) -> Response | None:
        if self.faults.garbage:
            return Response(
                "<html><body>502 Bad Gateway</body></html>", 200, media_type="text/html"
            )
        return None

    def ensure_worker(self) -> None:
        self.loop = asyncio.get_running_loop()
        if self.worker is None or self.worker.done():
            self.wake = asyncio.Event()
            self.worker = asyncio.get_running_loop().create_task(self.execute_forever())

    async def send(self, client_id: str, kind: str, data: dict) -> None:
        for socket in list(self.sockets.get(client_id, ())):
            try:
                await socket.send_text(json.dumps({"type": kind, "data": data}))
            except Exception:
                self.sockets[client_id].discard(socket)

    async def broadcast_status(self) -> None:
        remaining = len(self.pending) + (1 if self.running else 0)
        for client_id in list(self.sockets):
            await self.send(
                client_id, "status", {"status": {"exec_info": {"queue_remaining": remaining}}}
            )

    @property
    def creates(self) -> list:
        """Every prompt queued, as the other simulators list their jobs: id and prompt text
        (what the template's prompt slot received)."""
        return [
            SimpleNamespace(id=job.prompt_id, prompt=prompt_text(job.graph)) for job in self.jobs
        ]

    # --- HTTP -------------------------------------------------------------------------

    async def prompt(self, request: Request) -> Response:
        if bad := self.garbage():
            return bad
        self.ensure_worker()
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": {"type": "invalid_prompt", "message": "bad JSON"}}, 400)
        graph = body.get("prompt")
        if not isinstance(graph, dict):
            return self.invalid("invalid_prompt", "No prompt provided", {})
        for node_id, node in graph.items():
            if node.get("class_type") not in KNOWN_NODES:
                return self.invalid(
                    "invalid_prompt",
                    f"Cannot execute because node {node.get('class_type')} does not exist.",
                    {},
                    details=f"Node ID '#{node_id}'",
                )
        node_errors = {}
        for node_id, node in graph.items():
            errors = [
                {
                    "type": "value_not_in_list",
                    "message": "Value not in list",
                    "details": f"{name}: '{value}' not in {self.models.get(folder, [])}",
                    "extra_info": {"input_name": name},
                }
                for name, folder in MODEL_INPUTS.items()
                if (value := node.get("inputs", {}).get(name)) is not None
                and value not in self.models.get(folder, [])
            ]
            if errors:
                node_errors[node_id] = {
                    "errors": errors,
                    "dependent_outputs": [],
                    "class_type": node["class_type"],
                }
        if node_errors:
            return self.invalid(
                "prompt_outputs_failed_validation", "Prompt outputs failed validation", node_errors
            )
        prompt_id = str(body.get("prompt_id") or f"auto-{self.counter}")
        self.counter += 1
        self.submitted.append(prompt_id)
        job = Job(prompt_id, self.counter, graph, str(body.get("client_id") or ""))
        self.jobs.append(job)
        if self.running is None and not self.pending:
            self.running = job  # nothing ahead: it runs before the answer is sent
        else:
            self.pending.append(job)
        self.wake.set()
        await self.broadcast_status()
        return JSONResponse({"prompt_id": prompt_id, "number": job.number, "node_errors": {}})

    @staticmethod
    def invalid(kind: str, message: str, node_errors: dict, details: str = "") -> Response:
        error = {"type": kind, "message": message, "details": details, "extra_info": {}}
        return JSONResponse({"error": error, "node_errors": node_errors}, status_code=400)

    async def get_history(self, request: Request) -> Response:
        if bad := self.garbage():
            return bad
        prompt_id = request.path_params["prompt_id"]
        entry = self.history.get(prompt_id)
        return JSONResponse({prompt_id: entry} if entry else {})

    def row(self, job: Job) -> list:
        return [job.number, job.prompt_id, job.graph, {"client_id": job.client_id}, []]

    async def get_queue(self, request: Request) -> Response:
        if bad := self.garbage():
            return bad
        return JSONResponse(
            {
                "queue_running": [self.row(self.running)] if self.running else [],
                "queue_pending": [self.row(job) for job in self.pending],
            }
        )

    async def post_queue(self, request: Request) -> Response:
        body = await request.json()
        if body.get("clear"):
            self.pending.clear()
        for prompt_id in body.get("delete") or []:
            for job in list(self.pending):
                if job.prompt_id == prompt_id:
                    self.pending.remove(job)
        await self.broadcast_status()
        return Response(status_code=200)

    async def interrupt(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        wanted = body.get("prompt_id") if isinstance(body, dict) else None
        if self.running and (wanted is None or wanted == self.running.prompt_id):
            self.running.interrupted = True
            self.interrupts += 1
        return Response(status_code=200)

    async def upload(self, request: Request) -> Response:
        async with request.form() as form:
            image = form.get("image")
            data = await image.read()
            name = image.filename
            subfolder = str(form.get("subfolder") or "")
        try:
            Image.open(io.BytesIO(data)).verify()
        except Exception:
            return Response("Invalid image", status_code=400)
        self.uploads[f"{subfolder}/{name}" if subfolder else name] = data
        return JSONResponse({"name": name, "subfolder": subfolder, "type": "input"})

    async def view(self, request: Request) -> Response:
        if bad := self.garbage():
            return bad
        params = request.query_params
        filename, subfolder = params.get("filename", ""), params.get("subfolder", "")
        if ".." in filename or ".." in subfolder or filename.startswith("/"):
            return Response(status_code=403)
        data = self.files.get((params.get("type", "output"), subfolder, filename))
        if data is None:
            return Response(status_code=404)
        kind = "video/mp4" if filename.endswith(".mp4") else "application/octet-stream"
        return Response(data, media_type=kind)

    async def system_stats(self, request: Request) -> Response:
        if bad := self.garbage():
            return bad
        return JSONResponse(
            {
                "system": {"os": "posix", "comfyui_version": "0.3.64", "python_version": "3.12"},
                "devices": [{"name": "cpu", "type": "cpu"}],
            }
        )

    async def object_info(self, request: Request) -> Response:
        """The node catalogue: each node the server has, a model input listing its files."""
        if bad := self.garbage():
            return bad
        return JSONResponse(
            {
                name: {
                    "input": {"required": self.node_inputs(name)},
                    "output": [],
                    "name": name,
                    "display_name": name,
                    "category": "",
                    "output_node": name.startswith("Save"),
                }
                for name in sorted(KNOWN_NODES)
            }
        )

    def node_inputs(self, name: str) -> dict:
        uses = {
            "UNETLoader": ("unet_name",),
            "CLIPLoader": ("clip_name",),
            "VAELoader": ("vae_name",),
            "CheckpointLoaderSimple": ("ckpt_name",),
        }.get(name, ())
        return {field: [self.models.get(MODEL_INPUTS[field], []), {}] for field in uses}

    async def model_folders(self, request: Request) -> Response:
        return JSONResponse(list(FOLDERS))

    async def model_files(self, request: Request) -> Response:
        folder = request.path_params["folder"]
        if folder not in FOLDERS:
            return Response(status_code=404)
        return JSONResponse(sorted(self.models.get(folder, [])))

    def restart(self) -> None:
        """The server restarts: every prompt is forgotten (the queue, the one running, its
        history) and every websocket dropped; the files it wrote stay on disk."""
        if self.loop is None or self.loop.is_closed():
            self.forget()
            return
        asyncio.run_coroutine_threadsafe(self.restarting(), self.loop).result(timeout=60)

    async def restarting(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.worker
            self.worker = None
        for sockets in list(self.sockets.values()):
            for socket in list(sockets):
                with contextlib.suppress(Exception):
                    await socket.close(code=1012)  # service restart
        self.forget()

    def forget(self) -> None:
        self.pending.clear()
        self.running = None
        self.history.clear()
        self.sockets.clear()
        self.restarts += 1

    async def websocket(self, socket: WebSocket) -> None:
        self.loop = asyncio.get_running_loop()
        if self.faults.no_websocket or self.faults.refuse_sockets > 0:
            self.faults.refuse_sockets = max(self.faults.refuse_sockets - 1, 0)
            self.refused_sockets += 1
            await socket.close(code=1008)  # before accepting: the handshake gets a 403
            return
        self.accepted_sockets += 1
        await socket.accept()
        client_id = socket.query_params.get("clientId", "")
        self.sockets.setdefault(client_id, set()).add(socket)
        await self.send(client_id, "status", {"status": {"exec_info": {"queue_remaining": 0}}})
        try:
            while True:
                await socket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            self.sockets.get(client_id, set()).discard(socket)

    # --- execution --------------------------------------------------------------------

    async def execute_forever(self) -> None:
        while True:
            if self.running is None and not self.pending:
                self.wake.clear()
                await self.wake.wait()
                continue
            job = self.running or self.pending.popleft()
            self.running = job
            try:
                await self.execute(job)
            finally:
                self.running = None
                await self.broadcast_status()

    async def execute(self, job: Job) -> None:
        pid, client = job.prompt_id, job.client_id
        await self.send(client, "execution_start", {"prompt_id": pid, "timestamp": time.time()})
        messages = [["execution_start", {"prompt_id": pid}]]
        order = list(job.graph)
        steps = max(self.faults.steps, 1)
        failing = self.faults.fail_word in json.dumps(job.graph)
        for index, node_id in enumerate(order):
            node = job.graph[node_id]
            await self.send(
                client, "executing", {"node": node_id, "display_node": node_id, "prompt_id": pid}
            )
            states = {
                n: {
                    "value": 0,
                    "max": 1,
                    "state": "finished" if i < index else "running",
                    "node_id": n,
                    "display_node_id": n,
                    "parent_node_id": None,
                    "real_node_id": n,
                }
                for i, n in enumerate(order[: index + 1])
            }
            await self.send(client, "progress_state", {"prompt_id": pid, "nodes": states})
            if node["class_type"] in ("EmptyImage", "RepeatImageBatch"):  # the slow node
                for step in range(steps):
                    await asyncio.sleep(self.faults.render_seconds / steps)
                    if job.interrupted:
                        return await self.stop(job, node_id, node, messages)
                    if self.faults.steps:
                        await self.send(
                            client,
                            "progress",
                            {"value": step + 1, "max": steps, "prompt_id": pid, "node": node_id},
                        )
                if failing:
                    return await self.fail(job, node_id, node, messages)
            if job.interrupted:
                return await self.stop(job, node_id, node, messages)
        outputs = await asyncio.to_thread(self.render, job)
        for node_id, output in outputs.items():
            await self.send(
                client,
                "executed",
                {"node": node_id, "display_node": node_id, "output": output, "prompt_id": pid},
            )
        await self.send(client, "execution_success", {"prompt_id": pid, "timestamp": time.time()})
        await self.send(client, "executing", {"node": None, "prompt_id": pid})
        messages.append(["execution_success", {"prompt_id": pid}])
        self.history[pid] = {
            "prompt": [job.number, pid, job.graph, {}, list(outputs)],
            "outputs": outputs,
            "status": {"status_str": "success", "completed": True, "messages": messages},
            "meta": {},
        }

    async def stop(self, job: Job, node_id: str, node: dict, messages: list) -> None:
        data = {"prompt_id": job.prompt_id, "node_id": node_id, "node_type": node["class_type"]}
        await self.send(job.client_id, "execution_interrupted", {**data, "executed": []})
        messages.append(["execution_interrupted", data])
        self.history[job.prompt_id] = {
            "prompt": [job.number, job.prompt_id, job.graph, {}, []],
            "outputs": {},
            "status": {"status_str": "error", "completed": False, "messages": messages},
            "meta": {},
        }

    async def fail(self, job: Job, node_id: str, node: dict, messages: list) -> None:
        data = {
            "prompt_id": job.prompt_id,
            "node_id": node_id,
            "node_type": node["class_type"],
            "executed": [],
            "exception_message": "Allocation on device failed: out of memory",
            "exception_type": "torch.OutOfMemoryError",
            "traceback": [],
            "current_inputs": {},
            "current_outputs": {},
        }
        await self.send(job.client_id, "execution_error", data)
        messages.append(["execution_error", data])
        self.history[job.prompt_id] = {
            "prompt": [job.number, job.prompt_id, job.graph, {}, []],
            "outputs": {},
            "status": {"status_str": "error", "completed": False, "messages": messages},
            "meta": {},
        }

    def render(self, job: Job) -> dict:
        """Execute the weight-free graph: frames → H.264 MP4, as SaveVideo would write it."""
        graph = job.graph
        by_class = {node["class_type"]: node["inputs"] for node in graph.values()}
        if "EmptyImage" in by_class:
            spec = by_class["EmptyImage"]
            width, height, count = spec["width"], spec["height"], spec["batch_size"]
            colour = int(spec.get("color", 0))
            frame = np.zeros((height, width, 3), dtype=np.uint8)
            frame[:] = ((colour >> 16) & 255, (colour >> 8) & 255, colour & 255)
        else:
            scale = by_class["ImageScale"]
            width, height = scale["width"], scale["height"]
            count = by_class["RepeatImageBatch"]["amount"]
            name = by_class["LoadImage"]["image"]
            picture = Image.open(io.BytesIO(self.uploads[name])).convert("RGB")
            frame = np.asarray(picture.resize((width, height)))
        fps = int(by_class["CreateVideo"]["fps"])
        save_id = next(n for n, node in graph.items() if node["class_type"] == "SaveVideo")
        prefix = graph[save_id]["inputs"].get("filename_prefix", "ComfyUI")
        subfolder, _, stem = prefix.rpartition("/")
        filename = f"{stem}_{job.number:05d}_.{self.faults.save_format}"
        out = io.BytesIO()
        with av.open(out, "w", format="mp4" if self.faults.save_format == "mp4" else "webm") as c:
            stream = c.add_stream(
                "h264" if self.faults.save_format == "mp4" else "libvpx-vp9", rate=fps
            )
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            for _ in range(count):
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    c.mux(packet)
            for packet in stream.encode():
                c.mux(packet)
        self.files[("output", subfolder, filename)] = out.getvalue()
        entry = {"filename": filename, "subfolder": subfolder, "type": "output"}
        return {save_id: {self.faults.output_key: [entry], "animated": [True]}}


def prompt_text(graph: dict) -> str:
    """The prompt the template carried: the first text or string value in the graph."""
    for node in graph.values():
        inputs = node.get("inputs", {})
        for name in ("value", "text"):
            if isinstance(inputs.get(name), str) and inputs[name]:
                return inputs[name]
    return ""
