"""Facts about video files and the pictures made from them (PyAV, Pillow)."""

import hashlib
from pathlib import Path

import av

POSTER_WIDTH = 640


def probe(path: Path) -> dict:
    """Codec, size, frame rate, duration and audio of an MP4, as JSON-ready data."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        rate = video.average_rate or video.guessed_rate
        return {
            "container": "mp4"
            if "mp4" in container.format.name.split(",")
            else container.format.name,
            "duration": round(container.duration / av.time_base, 3) if container.duration else None,
            "bytes": path.stat().st_size,
            "bit_rate": container.bit_rate,
            "video_codec": video.codec_context.name,
            "profile": video.codec_context.profile,
            "pix_fmt": video.codec_context.pix_fmt,
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "fps": round(float(rate), 3) if rate else None,
            "frames": video.frames,
            "audio_codec": audio.codec_context.name if audio else None,
            "sample_rate": audio.codec_context.sample_rate if audio else None,
            "channels": audio.codec_context.channels if audio else None,
        }


def write_poster(video_path: Path, out_path: Path, at: float = 0.4) -> None:
    """A JPEG still from ``at`` of the way through, for players and lists."""
    with av.open(str(video_path)) as container:
        stream = container.streams.video[0]
        if container.duration:
            target = int(container.duration * at)
            container.seek(target, any_frame=False, backward=True)
        frame = next(container.decode(stream))
        image = frame.to_image()
    height = round(image.height * POSTER_WIDTH / image.width / 2) * 2
    image.resize((POSTER_WIDTH, height)).save(out_path, "JPEG", quality=85, optimize=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


SPRITE_COLUMNS = 10
SPRITE_WIDTH = 160


def write_spritesheet(video_path: Path, out_path: Path) -> None:
    """Ten evenly spaced frames side by side: hover a card to scrub through the take."""
    from PIL import Image

    with av.open(str(video_path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        total = stream.frames or 1
        wanted = {round(i * (total - 1) / (SPRITE_COLUMNS - 1)) for i in range(SPRITE_COLUMNS)}
        frames = [
            frame.to_image()
            for index, frame in enumerate(container.decode(stream))
            if index in wanted
        ]
    if not frames:
        raise ValueError("no frames to make a spritesheet from")
    width = SPRITE_WIDTH
    height = round(frames[0].height * width / frames[0].width / 2) * 2
    sheet = Image.new("RGB", (width * SPRITE_COLUMNS, height))
    for index, frame in enumerate(frames[:SPRITE_COLUMNS]):
        sheet.paste(frame.resize((width, height)), (index * width, 0))
    sheet.save(out_path, "JPEG", quality=80, optimize=True)
