"""Encode an animatic: H.264 + AAC in MP4, exact size, 24 fps, exactly ``seconds`` long.

Same spec and seed give the same bytes: the scene, camera shake and sound are
drawn from a seeded generator, the font ships with Pillow, x264 runs with a
fixed thread count and the muxer is told to be bit-exact.
"""

from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import av
import numpy as np
from PIL import Image

from .camera import crop_boxes, move_for
from .captions import Captions, YuvOverlay, draw_overlay
from .look import look_for
from .scene import paint_scene, scene_size
from .sound import sound_bed

FPS = 24
SAMPLE_RATE = 48_000
AUDIO_FRAME = 1024  # samples per AAC frame
X264 = {
    "preset": "veryfast",
    "crf": "23",
    # Fixed, not "auto": x264's output depends on its thread count, and the
    # same shot must give the same bytes on every machine.
    "threads": "2",
    "x264-params": f"keyint={2 * FPS}:min-keyint={FPS}",
}


@dataclass(frozen=True)
class AnimaticSpec:
    width: int
    height: int
    seconds: int
    seed: int
    subject: str = ""
    motion: str = ""
    camera: str = ""
    lighting: str = ""
    atmosphere: str = ""
    dialogue: str = ""
    audio: str = ""  # audio cues, heard in the sound bed with the atmosphere's
    background: Path | None = None  # a reference image, fitted to the scene

    @property
    def frames(self) -> int:
        return self.seconds * FPS


Progress = Callable[[int, int], None]


def render_animatic(spec: AnimaticSpec, out_path: Path, on_progress: Progress | None = None):
    """Write the MP4 to ``out_path``, calling ``on_progress(done, total)`` per frame.

    ``on_progress`` may raise to stop the render (a cancelled take); the
    partly written file is then the caller's to delete.
    """

    # The setup before the first frame can take seconds on a loaded machine: it reports
    # "0 done" between its steps, so whoever watches (a lease) knows the render is alive.
    def setting_up():
        if on_progress:
            on_progress(0, spec.frames)

    move = move_for(spec.camera)
    look = look_for(spec.lighting, spec.atmosphere)
    background = Image.open(spec.background) if spec.background else None
    scene = paint_scene(look, spec.width, spec.height, spec.seed, background)
    setting_up()
    boxes = crop_boxes(
        move,
        scene_size(spec.width, spec.height),
        (spec.width, spec.height),
        spec.frames,
        FPS,
        spec.seed,
    )
    info = f"{move.label} · {spec.seconds}s · {spec.width}x{spec.height}"
    overlay = YuvOverlay(
        draw_overlay(
            Captions(spec.subject, spec.motion, " / ".join(spec.dialogue.splitlines()), info),
            spec.width,
            spec.height,
        )
    )
    setting_up()
    audio = sound_bed(f"{spec.atmosphere} {spec.audio}", spec.seconds, SAMPLE_RATE, spec.seed)
    setting_up()

    with av.open(
        str(out_path),
        "w",
        format="mp4",
        options={"movflags": "+faststart", "fflags": "+bitexact"},
    ) as container:
        video = container.add_stream("libx264", rate=FPS, options=X264)
        video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
        sound = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        sound.bit_rate = 96_000

        samples_sent = 0
        for index, frame in enumerate(_pictures(scene, boxes, overlay, spec.width, spec.height)):
            frame.pts = index
            container.mux(video.encode(frame))
            # Keep audio interleaved with video so players can start early.
            due = (index + 1) * SAMPLE_RATE // FPS
            while samples_sent < due:
                samples_sent = _send_audio(container, sound, audio, samples_sent)
            if on_progress:
                on_progress(index + 1, spec.frames)
        while samples_sent < audio.shape[1]:
            samples_sent = _send_audio(container, sound, audio, samples_sent)
        container.mux(video.encode(None))
        container.mux(sound.encode(None))


def _pictures(scene, boxes, overlay: YuvOverlay, width: int, height: int):
    """The frames in order, drawn a few ahead on a helper thread while x264 encodes.

    Cropping, scaling and blending release the GIL, so drawing overlaps encoding.
    A run of identical boxes (a static camera) is drawn once.
    """

    def draw(box):
        return overlay.blend(_view(scene, box, width, height))

    runs = iter([(box, len(list(group))) for box, group in groupby(boxes)])
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead: deque = deque()

        def top_up():
            while len(ahead) < 3 and (run := next(runs, None)):
                ahead.append((pool.submit(draw, run[0]), run[1]))

        top_up()
        while ahead:
            future, count = ahead.popleft()
            top_up()
            frame = future.result()
            for _ in range(count):
                yield frame


def _view(scene: np.ndarray, box: tuple[int, int, int, int], width: int, height: int):
    left, top, w, h = box
    crop = np.ascontiguousarray(scene[top : top + h, left : left + w])
    frame = av.VideoFrame.from_ndarray(crop, format="rgb24")
    return frame.reformat(width=width, height=height, format="yuv420p", interpolation="BILINEAR")


def _send_audio(container, stream, audio: np.ndarray, start: int) -> int:
    chunk = np.ascontiguousarray(audio[:, start : start + AUDIO_FRAME])
    frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
    frame.sample_rate = SAMPLE_RATE
    frame.pts = start
    container.mux(stream.encode(frame))
    return start + chunk.shape[1]
