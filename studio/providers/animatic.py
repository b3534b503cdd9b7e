"""The default provider: Slate's own animatic renderer, offline and free."""

from pathlib import Path

from studio.animatic.render import AnimaticSpec, render_animatic

from .base import Job, ProgressCallback


class AnimaticProvider:
    kind = "animatic"

    def render(self, job: Job, out_path: Path, on_progress: ProgressCallback) -> None:
        spec = AnimaticSpec(
            width=job.width,
            height=job.height,
            seconds=job.seconds,
            seed=job.seed,
            subject=job.shot.subject or job.shot.prompt,
            motion=job.shot.motion,
            # A shot written only as a free prompt still gets its camera and light.
            camera=job.shot.camera or job.shot.prompt,
            lighting=job.shot.lighting or job.shot.prompt,
            atmosphere=job.shot.atmosphere or job.shot.prompt,
            dialogue=job.shot.dialogue,
            audio=job.shot.audio,
            background=job.reference,
        )
        render_animatic(spec, out_path, lambda done, total: on_progress(done / total))
