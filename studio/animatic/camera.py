"""The Camera field as a virtual camera: a crop of the scene for every frame."""

import math
from dataclasses import dataclass

import numpy as np

from .words import mentions

PUSH_IN = (
    "push in",
    "push-in",
    "dolly in",
    "dolly-in",
    "zoom in",
    "move in",
    "creep in",
    "push toward",
    "push towards",
    "slow push",
    "dolly forward",
    "track in",
)
PULL_OUT = (
    "pull out",
    "pull-out",
    "pull back",
    "pull-back",
    "dolly out",
    "dolly-out",
    "zoom out",
    "dolly back",
    "reveal",
    "track out",
)
LEFT = (
    "pan left",
    "truck left",
    "track left",
    "tracking left",
    "dolly left",
    "move left",
    "slides left",
)
RIGHT = (
    "pan right",
    "truck right",
    "track right",
    "tracking right",
    "dolly right",
    "move right",
    "slides right",
)
SIDEWAYS = (
    "pan",
    "panning",
    "whip pan",
    "truck",
    "tracking shot",
    "tracking",
    "lateral",
    "orbit",
    "arc shot",
    "arcs",
)
UP = (
    "crane up",
    "tilt up",
    "boom up",
    "pedestal up",
    "rising",
    "rises",
    "ascending",
    "ascends",
    "jib up",
)
DOWN = (
    "crane down",
    "tilt down",
    "boom down",
    "pedestal down",
    "descending",
    "descends",
    "jib down",
)
VERTICAL = ("crane", "crane shot", "tilt", "boom", "jib")
SHAKE = ("handheld", "hand-held", "shaky", "shaking", "documentary style", "run-and-gun")
ZOOM = ("zoom", "dolly", "push")

PUSH_ZOOM = 1.3
TRAVEL = 0.85  # of the room the margin leaves, for pans and cranes


@dataclass(frozen=True)
class Move:
    """Where the camera starts and ends: zoom (1 = widest), x/y offsets in -1..1."""

    zoom: tuple[float, float] = (1.0, 1.0)
    x: tuple[float, float] = (0.0, 0.0)
    y: tuple[float, float] = (0.0, 0.0)
    shake: float = 0.0
    label: str = "static"


def move_for(camera: str) -> Move:
    """Read camera moves from free text; several can combine (a handheld push-in)."""
    zoom, x, y, shake, labels = (1.0, 1.0), (0.0, 0.0), (0.0, 0.0), 0.0, []
    if mentions(camera, *PULL_OUT):
        zoom, labels = (PUSH_ZOOM, 1.0), [*labels, "pull out"]
    elif mentions(camera, *PUSH_IN) or mentions(camera, *ZOOM):
        zoom, labels = (1.0, PUSH_ZOOM), [*labels, "push in"]
    if mentions(camera, *LEFT):
        x, labels = (TRAVEL, -TRAVEL), [*labels, "pan left"]
    elif mentions(camera, *RIGHT) or mentions(camera, *SIDEWAYS):
        x, labels = (-TRAVEL, TRAVEL), [*labels, "pan right"]
    if mentions(camera, *DOWN):
        y, labels = (-TRAVEL, TRAVEL), [*labels, "crane down"]
    elif mentions(camera, *UP) or mentions(camera, *VERTICAL):
        y, labels = (TRAVEL, -TRAVEL), [*labels, "crane up"]
    if mentions(camera, *SHAKE):
        shake, labels = 0.006, [*labels, "handheld"]
    return Move(zoom, x, y, shake, " + ".join(labels) or "static")


def _ease(t: float) -> float:
    return t * t * (3 - 2 * t)


def crop_boxes(
    move: Move, scene: tuple[int, int], frame: tuple[int, int], frames: int, fps: int, seed: int
) -> list[tuple[int, int, int, int]]:
    """One (left, top, width, height) box of the scene per frame, in whole pixels."""
    sw, sh = scene
    fw, fh = frame
    rng = np.random.default_rng(seed)
    phases = rng.uniform(0, 2 * math.pi, 4)
    boxes = []
    for i in range(frames):
        t = _ease(i / max(frames - 1, 1))
        zoom = move.zoom[0] + (move.zoom[1] - move.zoom[0]) * t
        w, h = fw / zoom, fh / zoom
        room_x, room_y = (sw - w) / 2, (sh - h) / 2
        cx = sw / 2 + room_x * (move.x[0] + (move.x[1] - move.x[0]) * t)
        cy = sh / 2 + room_y * (move.y[0] + (move.y[1] - move.y[0]) * t)
        if move.shake:
            seconds = i / fps
            cx += (
                fw
                * move.shake
                * (math.sin(seconds * 5.1 + phases[0]) + 0.5 * math.sin(seconds * 11.3 + phases[1]))
            )
            cy += (
                fh
                * move.shake
                * (math.sin(seconds * 4.3 + phases[2]) + 0.5 * math.sin(seconds * 9.7 + phases[3]))
            )
        left = min(max(round(cx - w / 2), 0), sw - round(w))
        top = min(max(round(cy - h / 2), 0), sh - round(h))
        boxes.append((left, top, round(w), round(h)))
    return boxes
