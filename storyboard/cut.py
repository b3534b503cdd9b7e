"""The cut: the chosen takes, in card order, joined into one MP4 (PyAV).

When every take shares its codec parameters (the same model, size and fps, as a board's
takes usually do), packets are copied: no decode, no quality loss, a fraction of a
second. Otherwise every take is normalised once to the first one's size and fps and
re-encoded (H.264 + AAC). Transitions are cuts; a crossfade is shown on the board but
cut as a cut (see README "Storyboards").
"""

from collections.abc import Sequence
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


def params(path: Path) -> Params:
    with av.open(str(path)) as container:
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


def join(paths: Sequence[Path], out: Path) -> str:
    """Join ``paths`` into ``out``; returns how: "copy" or "encode"."""
    if not paths:
        raise ValueError("Nothing to join.")
    found = [params(path) for path in paths]
    if all(p == found[0] for p in found):
        _copy(paths, out)
        return "copy"
    _encode(paths, out, found[0])
    return "encode"


def _video_seconds(container) -> float:
    stream = container.streams.video[0]
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return container.duration / av.time_base


def _copy(paths: Sequence[Path], out: Path) -> None:
    """Remux every input's packets one after another, shifted by the video before them."""
    with av.open(str(paths[0])) as first, av.open(str(out), "w", format="mp4") as output:
        outs = {"video": output.add_stream_from_template(first.streams.video[0])}
        if first.streams.audio:
            outs["audio"] = output.add_stream_from_template(first.streams.audio[0])
        offset = 0.0
        last_dts: dict[str, int] = {}
        for path in paths:
            with av.open(str(path)) as source:
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


def _encode(paths: Sequence[Path], out: Path, first: Params) -> None:
    """Decode each input, fit it to the first one's size and fps, encode once."""
    rate = Fraction(first.rate or FPS_FALLBACK).limit_denominator(1001)
    with av.open(str(out), "w", format="mp4") as output:
        video = output.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = first.width, first.height, "yuv420p"
        video.options = {"preset": "veryfast", "crf": "20"}
        audio = output.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        frame_index, sample_index = 0, 0
        for path in paths:
            with av.open(str(path)) as source:
                seconds = _video_seconds(source)
                wanted = round(seconds * rate)
                made = 0
                step = float(source.streams.video[0].average_rate or rate) / float(rate)
                position = 0.0
                for index, frame in enumerate(source.decode(source.streams.video[0])):
                    # Keep or repeat frames so each input lasts as long at the output's fps.
                    while made < wanted and position <= index:
                        picture = frame.reformat(first.width, first.height, "yuv420p")
                        picture.pts = frame_index
                        picture.time_base = 1 / rate
                        output.mux(video.encode(picture))
                        frame_index += 1
                        made += 1
                        position += step
                wanted_samples = round(seconds * SAMPLE_RATE)
                used = 0
                if source.streams.audio:
                    source.seek(0)
                    for frame in source.decode(source.streams.audio[0]):
                        for chunk in resampler.resample(frame):
                            take = min(chunk.samples, wanted_samples - used)
                            if take <= 0:
                                break
                            used += _send_audio(output, audio, chunk, take, sample_index + used)
                # A take without sound (or a short one) gets silence: the next card's sound
                # starts where its picture does.
                while used < wanted_samples:
                    used += _send_silence(output, audio, wanted_samples - used, sample_index + used)
                sample_index += wanted_samples
        output.mux(video.encode(None))
        output.mux(audio.encode(None))


def _send_audio(output, stream, chunk, samples: int, pts: int) -> int:
    data = chunk.to_ndarray()[:, :samples]
    frame = av.AudioFrame.from_ndarray(data.copy(order="C"), format="fltp", layout="stereo")
    frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, pts, Fraction(1, SAMPLE_RATE)
    output.mux(stream.encode(frame))
    return samples


def _send_silence(output, stream, samples: int, pts: int) -> int:

    samples = min(samples, 1024)
    frame = av.AudioFrame.from_ndarray(
        np.zeros((2, samples), dtype="float32"), format="fltp", layout="stereo"
    )
    frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, pts, Fraction(1, SAMPLE_RATE)
    output.mux(stream.encode(frame))
    return samples


def duration(path: Path) -> float:
    with av.open(str(path)) as container:
        return _video_seconds(container)
