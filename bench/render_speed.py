"""How fast the animatic renders, against real time and against a naive renderer.

The naive baseline draws each frame the obvious way (Pillow crop-and-resize,
RGBA caption composite, RGB frame handed to the encoder) with the same scene,
camera, captions, sound and x264 settings, so the ratio shows what the YUV
overlay, reused static frames and the drawing thread buy.

    .venv/bin/python bench/render_speed.py
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from bench._setup import table  # noqa: E402
from studio.animatic import render as animatic  # noqa: E402
from studio.animatic.camera import crop_boxes, move_for  # noqa: E402
from studio.animatic.captions import Captions, draw_overlay  # noqa: E402
from studio.animatic.look import look_for  # noqa: E402
from studio.animatic.scene import paint_scene, scene_size  # noqa: E402
from studio.animatic.sound import sound_bed  # noqa: E402

SHOT = dict(  # noqa: C408
    subject="elderly woman reading a book",
    motion="turns a page, adjusts her glasses",
    lighting="golden hour",
    atmosphere="rain on the window, quiet room",
    dialogue='"Not yet," she whispers.',
)
RUNS = 3


def naive(spec: animatic.AnimaticSpec, out: Path) -> None:
    move, look = move_for(spec.camera), look_for(spec.lighting, spec.atmosphere)
    scene = Image.fromarray(paint_scene(look, spec.width, spec.height, spec.seed))
    boxes = crop_boxes(
        move,
        scene_size(spec.width, spec.height),
        (spec.width, spec.height),
        spec.frames,
        animatic.FPS,
        spec.seed,
    )
    overlay = draw_overlay(
        Captions(spec.subject, spec.motion, spec.dialogue, ""), spec.width, spec.height
    )
    audio = sound_bed(spec.atmosphere, spec.seconds, animatic.SAMPLE_RATE, spec.seed)
    with av.open(str(out), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=animatic.FPS, options=animatic.X264)
        video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
        sound = container.add_stream("aac", rate=animatic.SAMPLE_RATE, layout="stereo")
        for index, (left, top, w, h) in enumerate(boxes):
            view = scene.resize(
                (spec.width, spec.height),
                Image.Resampling.BILINEAR,
                box=(left, top, left + w, top + h),
            ).convert("RGBA")
            frame = av.VideoFrame.from_image(Image.alpha_composite(view, overlay).convert("RGB"))
            frame.pts = index
            container.mux(video.encode(frame))
        for start in range(0, audio.shape[1], animatic.AUDIO_FRAME):
            chunk = np.ascontiguousarray(audio[:, start : start + animatic.AUDIO_FRAME])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = animatic.SAMPLE_RATE, start
            container.mux(sound.encode(frame))
        container.mux(video.encode(None))
        container.mux(sound.encode(None))


def best_of(render, spec, folder: Path) -> float:
    timings = []
    for run in range(RUNS):
        started = time.perf_counter()
        render(spec, folder / f"run{run}.mp4")
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size, seconds, camera in (
            ((1280, 720), 8, "slow push-in"),
            ((1280, 720), 8, "static"),
            ((1280, 720), 8, "handheld pan left"),
            ((1792, 1024), 12, "crane up"),
        ):
            spec = animatic.AnimaticSpec(*size, seconds, 42, camera=camera, **SHOT)
            ours = best_of(animatic.render_animatic, spec, Path(folder))
            baseline = best_of(naive, spec, Path(folder))
            rows.append(
                [
                    f"{size[0]}x{size[1]}",
                    f"{seconds} s",
                    camera,
                    f"{ours:.2f} s",
                    f"{seconds / ours:.1f}x",
                    f"{baseline:.2f} s",
                    f"{baseline / ours:.2f}x",
                ]
            )
    print(f"Animatic render, best of {RUNS} runs (goal: 1280x720 8 s at >= 4x real time)\n")
    print(
        table(
            [
                "size",
                "length",
                "camera",
                "render",
                "x real time",
                "naive render",
                "speed-up vs naive",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
