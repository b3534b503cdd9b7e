"""The cut: the chosen takes, in card order, joined into one MP4 (PyAV).

When every take shares its codec parameters (the same model, size and fps, as a board's
takes usually do), packets are copied: no decode, no quality loss, a fraction of a
second. Otherwise (or when a transition is a crossfade) every take is normalised once to
the first one's size and fps and re-encoded (H.264 + AAC), crossfades blended in picture
and sound: the cut lasts the sum of the takes less the crossfades' overlaps.
"""

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

FPS_FALLBACK = 24
SAMPLE_RATE = 48_000


@dataclass(frozen=True)
class Params:
    codec: str
    width: int
    height: int
    pix_fmt: str | None
    rate: Fraction | None
    extradata: bytes | None
    audio: tuple | None


def params(container) -> Params:
    """What a stream copy needs to be the same in every input, from an open container."""
    video = container.streams.video[0].codec_context
    audio = container.streams.audio[0].codec_context if container.streams.audio else None
    return Params(
        codec=video.name,
        width=video.width,
        height=video.height,
        pix_fmt=video.pix_fmt,
        rate=container.streams.video[0].average_rate,
        extradata=bytes(video.extradata or b""),
        audio=(audio.name, audio.sample_rate, audio.channels, bytes(audio.extradata or b""))
        if audio
        else None,
    )


def join(
    paths: Sequence[Path],
    out: Path,
    crossfades: Sequence[float] = (),
    titles: Sequence[str] = (),
) -> str:
    """Join ``paths`` into ``out``, a chapter per input (named by ``titles``); returns how:
    "copy" or "encode".

    ``crossfades[i]`` is the overlap in seconds between input i and i + 1 (0: a cut);
    any crossfade needs the re-encode, which blends picture and sound over it."""
    if not paths:
        raise ValueError("Nothing to join.")
    fades = [max(0.0, float(f)) for f in crossfades][: len(paths) - 1]
    fades += [0.0] * (len(paths) - 1 - len(fades))
    # Each input is opened once: reading an MP4's index is most of a copy's cost.
    with contextlib.ExitStack() as stack:
        sources = [stack.enter_context(av.open(str(path))) for path in paths]
        found = [params(source) for source in sources]
        marks = _chapters([_video_seconds(source) for source in sources], fades, titles)
        if all(p == found[0] for p in found) and not any(fades):
            _copy(sources, out, marks)
            return "copy"
    _encode(paths, out, found[0], fades, marks)
    return "encode"


CHAPTER_BASE = Fraction(1, 1000)


def _chapters(lengths: Sequence[float], fades: Sequence[float], titles: Sequence[str]) -> list:
    """A chapter per input (``lengths`` in seconds), from where it starts in the cut to
    where the next one does."""
    starts, at = [], 0.0
    for index, length in enumerate(lengths):
        starts.append(at)
        at += length - (fades[index] if index < len(fades) else 0.0)
    ends = [*starts[1:], at]
    return [
        {
            "id": index + 1,
            "start": round(start * 1000),
            "end": round(end * 1000),
            "time_base": CHAPTER_BASE,
            "metadata": {"title": titles[index] if index < len(titles) else f"Part {index + 1}"},
        }
        for index, (start, end) in enumerate(zip(starts, ends, strict=True))
    ]


def _video_seconds(container) -> float:
    stream = container.streams.video[0]
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return container.duration / av.time_base


def _copy(sources: Sequence, out: Path, chapters: list) -> None:
    """Remux every input's packets one after another, shifted by the video before them."""
    first = sources[0]
    with av.open(str(out), "w", format="mp4") as output:
        output.set_chapters(chapters)
        outs = {"video": output.add_stream_from_template(first.streams.video[0])}
        if first.streams.audio:
            outs["audio"] = output.add_stream_from_template(first.streams.audio[0])
        offset = 0.0
        last_dts: dict[str, int] = {}
        for source in sources:
            streams = [source.streams.video[0], *source.streams.audio[:1]]
            for packet in source.demux(streams):
                if packet.dts is None or packet.size == 0:
                    continue
                kind = packet.stream.type
                shift = round(offset / packet.time_base)
                packet.pts += shift
                packet.dts += shift
                # Audio that runs a packet past the video would go backwards at the
                # join: drop it rather than write a non-monotonic stream.
                if kind in last_dts and packet.dts <= last_dts[kind]:
                    continue
                last_dts[kind] = packet.dts
                packet.stream = outs[kind]
                output.mux(packet)
            offset += _video_seconds(source)


def _frames(source, rate: Fraction, width: int, height: int) -> Iterator[np.ndarray]:
    """The input's pictures as RGB arrays at the output's size and fps (frames kept or
    repeated so it lasts as long as before)."""
    stream = source.streams.video[0]
    wanted = round(_video_seconds(source) * rate)
    step = float(stream.average_rate or rate) / float(rate)
    made, position = 0, 0.0
    picture = np.zeros((height, width, 3), np.uint8)
    for index, frame in enumerate(source.decode(stream)):
        if made < wanted and position <= index:
            picture = frame.reformat(width, height, "rgb24").to_ndarray()
        while made < wanted and position <= index:
            yield picture
            made += 1
            position += step
    while made < wanted:  # a stream shorter than it says: hold its last picture
        yield picture
        made += 1


def _sound(source, seconds: float) -> np.ndarray:
    """The input's sound as stereo float samples at SAMPLE_RATE, exactly ``seconds`` long
    (silence where it has none)."""
    wanted = round(seconds * SAMPLE_RATE)
    parts = []
    if source.streams.audio:
        source.seek(0)
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        for frame in source.decode(source.streams.audio[0]):
            parts += [chunk.to_ndarray() for chunk in resampler.resample(frame)]
        parts += [chunk.to_ndarray() for chunk in resampler.resample(None)]
    sound = np.concatenate(parts, axis=1) if parts else np.zeros((2, 0), np.float32)
    sound = sound[:, :wanted]
    if sound.shape[1] < wanted:
        sound = np.pad(sound, ((0, 0), (0, wanted - sound.shape[1])))
    return sound.astype(np.float32)


def _encode(
    paths: Sequence[Path], out: Path, first: Params, fades: Sequence[float], chapters: list
) -> None:
    """Decode each input, fit it to the first one's size and fps, blend the crossfades,
    encode once. Only a crossfade's frames are held in memory, and the sound."""
    rate = Fraction(first.rate or FPS_FALLBACK).limit_denominator(1001)
    width, height = first.width, first.height
    with av.open(str(out), "w", format="mp4") as output:
        output.set_chapters(chapters)
        video = output.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "veryfast", "crf": "20"}
        audio = output.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        index = 0

        def send(picture: np.ndarray) -> None:
            nonlocal index
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = index, 1 / rate
            output.mux(video.encode(frame))
            index += 1

        tail: list[np.ndarray] = []  # the previous input's last frames, to fade from
        sound = np.zeros((2, 0), np.float32)
        for number, path in enumerate(paths):
            with av.open(str(path)) as source:
                seconds = _video_seconds(source)
                total = round(seconds * rate)
                fade_out = fades[number] if number < len(fades) else 0.0
                keep = min(round(fade_out * rate), total // 2) if fade_out else 0
                fade_in, held = len(tail), []
                for i, picture in enumerate(_frames(source, rate, width, height)):
                    if i < fade_in:
                        mix = (i + 1) / (fade_in + 1)
                        picture = (tail[i] * (1 - mix) + picture * mix).astype(np.uint8)
                    if i >= total - keep:
                        held.append(picture)  # faded into the next input's first frames
                    else:
                        send(picture)
                tail = held
                clip = _sound(source, seconds)
            overlap = round(fade_in / float(rate) * SAMPLE_RATE) if fade_in else 0
            overlap = min(overlap, sound.shape[1], clip.shape[1])
            if overlap:
                ramp = np.linspace(0, 1, overlap, dtype=np.float32)
                clip[:, :overlap] = sound[:, -overlap:] * (1 - ramp) + clip[:, :overlap] * ramp
                sound = sound[:, :-overlap]
            sound = np.concatenate([sound, clip], axis=1)
        for picture in tail:
            send(picture)
        output.mux(video.encode(None))
        for start in range(0, sound.shape[1], 1024):
            chunk = np.ascontiguousarray(sound[:, start : start + 1024])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = SAMPLE_RATE, start
            frame.time_base = Fraction(1, SAMPLE_RATE)
            output.mux(audio.encode(frame))
        output.mux(audio.encode(None))


def duration(path: Path) -> float:
    with av.open(str(path)) as container:
        return _video_seconds(container)
