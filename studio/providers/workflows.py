"""ComfyUI workflow templates: API-format graphs shipped as data, with named slots.

A template is ``workflows/<name>.json`` (the graph as ComfyUI's "Export (API)"
writes it) and ``workflows/<name>.toml`` (its label and slots). A slot names
the node input (or inputs) that receives one of Slate's values: prompt,
negative_prompt, seed, width, height, frames, fps, image, filename_prefix.
prompt, width, height and frames are required; a template missing one, or
pointing a slot at a node or input the graph doesn't have, is refused with a
sentence saying which.

What a template needs from a server: its nodes (every ``class_type`` in the
graph) and its model files, declared in ``[files]`` as the node inputs that
name a file, by the folder under ComfyUI's ``models/`` it must be in
(``vae = ["39", "vae_name"]``). ``provider check`` compares both with the
server's ``/object_info`` and ``/models/<folder>``.
"""

import copy
import json
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).with_name("workflows")
REQUIRED = ("prompt", "width", "height", "frames")
OPTIONAL = ("negative_prompt", "seed", "fps", "image", "filename_prefix")


def writes_mp4(node: dict) -> bool:
    """Whether a node saves an MP4: Slate keeps MP4 files only, so a graph that ends in
    SaveWEBM or an animated WEBP/PNG could never deliver a take."""
    kind, inputs = node["class_type"], node["inputs"]
    if kind == "SaveVideo":  # core ComfyUI; "auto" is its MP4
        return str(inputs.get("format", "auto")) in ("auto", "mp4")
    if kind == "VHS_VideoCombine":  # Video Helper Suite: "video/h264-mp4" and kin
        return str(inputs.get("format", "")).endswith("mp4")
    return False


class WorkflowInvalid(ValueError):
    """A template Slate can't fill; the message says what is wrong with it."""


@dataclass(frozen=True)
class Workflow:
    name: str
    label: str
    graph: dict
    slots: dict[str, tuple[tuple[str, str], ...]]
    frames_offset: int = 0
    files: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    @property
    def nodes(self) -> dict[str, str]:
        """Each node class the graph uses, and the id of one node of it."""
        return {node["class_type"]: node_id for node_id, node in reversed(self.graph.items())}

    def model_files(self) -> dict[str, list[str]]:
        """The model files the graph names, by folder under ComfyUI's models/."""
        return {
            folder: sorted({str(self.graph[node]["inputs"][name]) for node, name in places})
            for folder, places in self.files.items()
        }

    def fill(self, values: dict) -> dict:
        """A copy of the graph with Slate's values in their slots (absent slots skipped)."""
        graph = copy.deepcopy(self.graph)
        for slot, value in values.items():
            for node, name in self.slots.get(slot, ()):
                graph[node]["inputs"][name] = value
        return graph


def parse(name: str, graph, spec: dict) -> Workflow:
    """Check a graph and its slots; a Workflow, or WorkflowInvalid saying what is wrong."""
    if not isinstance(graph, dict) or not graph:
        raise WorkflowInvalid(f"Workflow “{name}” has no nodes (export it with “Export (API)”).")
    for node_id, node in graph.items():
        if not isinstance(node, dict) or "class_type" not in node or "inputs" not in node:
            raise WorkflowInvalid(
                f"Workflow “{name}”, node {node_id}: not in API format (no class_type/inputs). "
                "Export it from ComfyUI with “Export (API)”."
            )
    if not any(writes_mp4(node) for node in graph.values()):
        raise WorkflowInvalid(
            f"Workflow “{name}” saves no MP4: end it in a SaveVideo node (format mp4) or Video "
            "Combine with an mp4 format; WEBM and animated WEBP/PNG can't be kept."
        )
    raw = spec.get("slots") or {}
    missing = [slot for slot in REQUIRED if slot not in raw]
    if missing:
        raise WorkflowInvalid(
            f"Workflow “{name}” is missing the required slot{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (slots say which node input gets each value)."
        )
    slots = {}
    for slot, where in raw.items():
        if slot not in REQUIRED + OPTIONAL:
            raise WorkflowInvalid(f"Workflow “{name}”: unknown slot “{slot}”.")
        slots[slot] = _places(name, f"slot {slot}", graph, where)
    files = {
        str(folder): _places(name, f"files {folder}", graph, where)
        for folder, where in (spec.get("files") or {}).items()
    }
    return Workflow(
        name=name,
        label=str(spec.get("label") or name),
        graph=graph,
        slots=slots,
        frames_offset=int(spec.get("frames_offset", 0)),
        files=files,
    )


def _places(name: str, what: str, graph: dict, where) -> tuple[tuple[str, str], ...]:
    """One ``["node id", "input"]`` or a list of them, each checked against the graph."""
    places = [where] if where and isinstance(where[0], str) else where
    checked = []
    for place in places:
        if not (isinstance(place, list | tuple) and len(place) == 2):
            raise WorkflowInvalid(f'Workflow “{name}”, {what}: write it as ["node id", "input"].')
        node, field = str(place[0]), str(place[1])
        if node not in graph:
            raise WorkflowInvalid(f"Workflow “{name}”, {what}: there is no node {node}.")
        if field not in graph[node]["inputs"]:
            raise WorkflowInvalid(
                f"Workflow “{name}”, {what}: node {node} "
                f"({graph[node]['class_type']}) has no input “{field}”."
            )
        checked.append((node, field))
    return tuple(checked)


@cache
def load(name: str) -> Workflow:
    """A shipped template by name."""
    graph_file, spec_file = FOLDER / f"{name}.json", FOLDER / f"{name}.toml"
    if not name or not graph_file.exists() or not spec_file.exists():
        known = ", ".join(sorted(p.stem for p in FOLDER.glob("*.json")))
        raise WorkflowInvalid(f"There is no workflow template “{name}”. Templates: {known}.")
    try:
        graph = json.loads(graph_file.read_text())
        spec = tomllib.loads(spec_file.read_text())
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        raise WorkflowInvalid(f"Workflow “{name}” can't be read: {error}") from error
    return parse(name, graph, spec)
