"""Facts about video files and the pictures made from them (PyAV, Pillow)."""

import hashlib
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

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


# --- edits: re-cut, join, blend, loop (Slate's own media work, "local" operations) ----------
#
# Every edit decodes its sources and encodes one new MP4 (H.264 + AAC, the animatic's
# settings), frame-accurately: a cut lands on the frame the seconds name, and the sound is
# cut, joined and faded at the very same times, so it stays in sync. Frames are mixed in
# YUV 4:2:0 (a linear mix of two pictures is the same in either colour space).

EDIT_SAMPLE_RATE = 48_000
AUDIO_FRAME = 1024  # samples per AAC frame
EDIT_X264 = {"preset": "veryfast", "crf": "20", "threads": "2"}
# FFmpeg's default AAC search ("twoloop") took a quarter of a loop's time; "fast" is its
# constant-quantiser coder, good at 128 kb/s and 2.7x quicker.
EDIT_AAC = {"aac_coder": "fast"}

EditProgress = Callable[[float], None]


@dataclass(frozen=True)
class Source:
    """A video to edit, as its frames are counted: size, frame rate and frame count."""

    path: Path
    width: int
    height: int
    fps: Fraction
    frames: int
    has_audio: bool

    @property
    def duration(self) -> float:
        return self.frames / float(self.fps)


def source(path: Path) -> Source:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        rate = Fraction(video.average_rate or video.guessed_rate or 24)
        frames = video.frames
        if not frames:  # a container that doesn't say: count them
            frames = sum(1 for _ in container.demux(video) if _.size)
        return Source(
            path,
            video.codec_context.width,
            video.codec_context.height,
            rate,
            frames,
            bool(container.streams.audio),
        )


def _pictures(
    clip: Source, width: int, height: int, first: int = 0, stop: int | None = None
) -> Iterator[np.ndarray]:
    """The clip's frames ``first`` to ``stop`` (``_frames``) as YUV 4:2:0 arrays of
    ``width``×``height`` (cropped to fill)."""
    for frame in _frames(clip, first, stop):
        yield _fitted(frame, width, height)


def _frames(clip: Source, first: int = 0, stop: int | None = None) -> Iterator:
    """The clip's frames ``first`` to ``stop`` as decoded. A later ``first`` seeks to the
    keyframe before it, and decoding ends at ``stop``: a short cut of a long take decodes
    only what it needs."""
    with av.open(str(clip.path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        base, offset = stream.time_base, stream.start_time or 0
        if first and base:
            container.seek(int(first / clip.fps / base) + offset, stream=stream, backward=True)
        index = 0
        for frame in container.decode(stream):
            if frame.pts is not None and base and first:
                index = round((frame.pts - offset) * base * clip.fps)
            if stop is not None and index >= stop:
                break
            if index >= first:
                yield frame
            index += 1


def _fitted(frame, width: int, height: int) -> np.ndarray:
    if (frame.width, frame.height) == (width, height):
        return frame.reformat(format="yuv420p").to_ndarray()
    scale = max(width / frame.width, height / frame.height)
    across, down = round(frame.width * scale), round(frame.height * scale)
    rgb = frame.reformat(width=across, height=down, format="rgb24").to_ndarray()
    left, top = (across - width) // 2, (down - height) // 2
    crop = np.ascontiguousarray(rgb[top : top + height, left : left + width])
    picture = av.VideoFrame.from_ndarray(crop, format="rgb24")
    return picture.reformat(format="yuv420p").to_ndarray()


def _sound(clip: Source) -> np.ndarray:
    """The clip's sound as stereo float samples at EDIT_SAMPLE_RATE, exactly as long as its
    pictures (silence where it has none, or too little)."""
    wanted = round(clip.frames / clip.fps * EDIT_SAMPLE_RATE)
    chunks = []
    if clip.has_audio:
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=EDIT_SAMPLE_RATE)
        with av.open(str(clip.path)) as container:
            for frame in container.decode(container.streams.audio[0]):
                chunks += [f.to_ndarray() for f in resampler.resample(frame)]
            chunks += [f.to_ndarray() for f in resampler.resample(None)]
    samples = np.concatenate(chunks, axis=1) if chunks else np.zeros((2, 0), np.float32)
    if samples.shape[1] < wanted:
        samples = np.pad(samples, ((0, 0), (0, wanted - samples.shape[1])))
    return np.ascontiguousarray(samples[:, :wanted], dtype=np.float32)


def _mix(a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:
    """``a`` faded towards ``b`` by ``weight`` (0: all a, 1: all b)."""
    mixed = a.astype(np.float32) * (1 - weight) + b.astype(np.float32) * weight
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def _fade(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sound ``a`` crossfaded into ``b`` (same length), sample by sample."""
    ramp = np.linspace(0, 1, a.shape[1], endpoint=False, dtype=np.float32) + 1 / max(a.shape[1], 1)
    return a * (1 - ramp) + b * ramp


def _write(
    out_path: Path,
    pictures: Iterator[np.ndarray],
    total: int,
    fps: Fraction,
    width: int,
    height: int,
    sound: np.ndarray | None,
    on_progress: EditProgress | None,
) -> None:
    with av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=fps, options=EDIT_X264)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = None
        if sound is not None:
            audio = out.add_stream("aac", rate=EDIT_SAMPLE_RATE, layout="stereo", options=EDIT_AAC)
            audio.bit_rate = 128_000
        sent = 0
        for index, picture in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
            frame.pts = index
            out.mux(video.encode(frame))
            if audio is not None:  # interleaved, so players can start early
                due = min(round((index + 1) / fps * EDIT_SAMPLE_RATE), sound.shape[1])
                while sent < due:
                    sent = _send(out, audio, sound, sent)
            if on_progress:
                on_progress((index + 1) / max(total, 1))
        if audio is not None:
            while sent < sound.shape[1]:
                sent = _send(out, audio, sound, sent)
            out.mux(audio.encode(None))
        out.mux(video.encode(None))


def _send(container, stream, sound: np.ndarray, start: int) -> int:
    chunk = np.ascontiguousarray(sound[:, start : start + AUDIO_FRAME])
    frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
    frame.sample_rate = EDIT_SAMPLE_RATE
    frame.pts = start
    container.mux(stream.encode(frame))
    return start + chunk.shape[1]


def _at(frames: int, fps: Fraction) -> int:
    """The sample where frame ``frames`` starts."""
    return round(frames / fps * EDIT_SAMPLE_RATE)


def frame_span(clip: Source, start: float, end: float) -> tuple[int, int]:
    """The frames [first, stop) that in/out points in seconds name (nearest frame edges)."""
    return round(start * clip.fps), min(round(end * clip.fps), clip.frames)


def trim(
    src: Path,
    out_path: Path,
    start: float,
    end: float,
    on_progress=None,
    *,
    copy: bool = True,
    encodings: Sequence[dict] = (),
) -> None:
    """The frames from ``start`` to ``end`` seconds (frame-accurate), sound cut with them.
    A cut on whole GOPs copies their packets (unless ``copy`` is False: the bench's full
    re-encode). Any other, when one of ``encodings`` (x264 options, as for ``loop``) gives
    the source's parameter sets, copies every packet it can — the whole GOPs inside it,
    the run of the last GOP that decodes on its own, the sound's AAC packets
    (``_copied_sound``) — and encodes only the frames before its first keyframe and the
    few after that run; otherwise it is decoded and encoded."""
    clip = source(src)
    first, stop = frame_span(clip, start, end)
    if stop - first < 1:
        raise ValueError("a cut must keep at least one frame")
    try:
        copied = copy and _trim_by_copy(clip, out_path, first, stop)
    except (av.FFmpegError, ValueError):  # the packets' times don't fit: decode after all
        out_path.unlink(missing_ok=True)
        copied = False
    if copied:
        if on_progress:
            on_progress(1.0)
        return
    if copy and encodings:
        try:
            if _spliced(clip, out_path, (first, stop), None, encodings, on_progress):
                return
        except (av.FFmpegError, ValueError):  # the packets' times don't fit: encode it all
            out_path.unlink(missing_ok=True)
    sound = _sound(clip)[:, _at(first, clip.fps) : _at(stop, clip.fps)] if clip.has_audio else None
    kept = _pictures(clip, clip.width, clip.height, first, stop)
    _write(out_path, kept, stop - first, clip.fps, clip.width, clip.height, sound, on_progress)


def _trim_by_copy(clip: Source, out_path: Path, first: int, stop: int) -> bool:
    """A cut whose in and out points are on whole GOPs (each a keyframe, or the clip's end),
    made without decoding: the GOPs' packets as they are, their times moved back to the in
    point. The sound's AAC packets are copied with them (``_copied_sound``). False, and
    nothing written, when the cut isn't on GOPs (or the GOPs are open): then it's decoded."""
    with av.open(str(clip.path)) as container:
        video = container.streams.video[0]
        base, offset = video.time_base, video.start_time or 0
        if not base:
            return False
        packets = [p for p in container.demux(video) if p.dts is not None and p.pts is not None]
        index = {id(p): round((p.pts - offset) * base * clip.fps) for p in packets}
        keys = [n for n, p in enumerate(packets) if p.is_keyframe]
        start = next((n for n in keys if index[id(packets[n])] == first), None)
        end = next((n for n in keys if index[id(packets[n])] == stop), len(packets))
        if start is None or (end == len(packets) and stop != clip.frames):
            return False
        kept = packets[start:end]
        if sorted(index[id(p)] for p in kept) != list(range(first, stop)):
            return False  # open GOPs, or frames missing: decode instead
        shift = packets[start].pts  # the in point, moved to time zero
        begin = float(shift * base)  # the in point on the file's clock
        finish = begin + (stop - first) / float(clip.fps)
        audio, audio_packets, back = _copied_sound(container, begin, finish)
        with av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            made_video = out.add_stream_from_template(video)
            streams = [(p, made_video, shift) for p in kept]
            if audio_packets:
                made_audio = out.add_stream_from_template(audio)
                streams += [(p, made_audio, back) for p in audio_packets]
            streams.sort(key=lambda item: float((item[0].dts - item[2]) * item[0].time_base))
            for packet, stream, back in streams:
                packet.pts -= back
                packet.dts -= back
                packet.stream = stream
                out.mux(packet)
    return True


def _copied_sound(container, begin: float, finish: float) -> tuple:
    """The source's sound from ``begin`` to ``finish`` seconds (on the file's clock) as its
    own AAC packets, not decoded: (stream, packets, shift), ``shift`` being what moves
    ``begin`` to time zero in the stream's time base. The packets run from the one before
    the packet that plays ``begin`` — decoded as priming, the decoder's warm-up (AAC frames
    overlap) — to the one that plays the last sample before ``finish``. Moved back by
    ``shift``, what lies before zero is kept out of play by the MP4's edit list, so the
    sound starts on the in point to the sample and ends within one AAC frame (1,024
    samples, 21 ms at 48 kHz: inside a video frame) after the pictures. No sound: (None,
    [], 0)."""
    if not container.streams.audio:
        return None, [], 0
    audio = container.streams.audio[0]
    base = audio.time_base
    container.seek(0)
    sounds = [p for p in container.demux(audio) if None not in (p.dts, p.pts)]
    playing = [
        n
        for n, p in enumerate(sounds)
        if float((p.pts + (p.duration or 1)) * base) > begin and float(p.pts * base) < finish
    ]
    if not playing:
        return None, [], 0
    shift = round(begin / base)
    return audio, sounds[max(playing[0] - 1, 0) : playing[-1] + 1], shift


def join(sources: list[Path], out_path: Path, crossfade: float = 0.0, on_progress=None) -> None:
    """The clips one after the other at the first one's size and rate; with ``crossfade``
    seconds, each dissolves into the next (pictures and sound) over that long."""
    clips = [source(path) for path in sources]
    head = clips[0]
    fade = round(crossfade * head.fps)
    if not fade and _copyable(sources):
        try:
            _join_by_copy(sources, clips, out_path)
            if on_progress:
                on_progress(1.0)
            return
        except (av.FFmpegError, ValueError):  # the packets' times don't fit: decode after all
            out_path.unlink(missing_ok=True)
    if fade and any(fade >= clip.frames for clip in clips):
        raise ValueError("the crossfade must be shorter than every clip")
    total = sum(clip.frames for clip in clips) - fade * (len(clips) - 1)
    audible = any(clip.has_audio for clip in clips)
    sound = None
    if audible:
        sound = _sound(clips[0])
        for clip in clips[1:]:
            nxt = _sound(clip)
            overlap = min(_at(fade, head.fps), sound.shape[1], nxt.shape[1])
            if overlap:
                tail = _fade(sound[:, -overlap:], nxt[:, :overlap])
                sound = np.concatenate([sound[:, :-overlap], tail, nxt[:, overlap:]], axis=1)
            else:
                sound = np.concatenate([sound, nxt], axis=1)

    def pictures() -> Iterator[np.ndarray]:
        held: list[np.ndarray] = []  # the outgoing clip's last frames, waiting to fade
        for number, clip in enumerate(clips):
            outgoing: list[np.ndarray] = []
            fades_out = fade and number < len(clips) - 1
            for index, picture in enumerate(_pictures(clip, head.width, head.height)):
                if held and index < fade:
                    yield _mix(held[index], picture, (index + 1) / (fade + 1))
                elif fades_out and index >= clip.frames - fade:
                    outgoing.append(picture)
                else:
                    yield picture
            held = outgoing

    _write(out_path, pictures(), total, head.fps, head.width, head.height, sound, on_progress)


def _signature(path: Path) -> tuple:
    """What must match for two clips' packets to follow each other in one file."""
    with av.open(str(path)) as container:
        streams = [container.streams.video[0], *container.streams.audio[:1]]
        return tuple(
            (
                s.type,
                s.codec_context.name,
                s.codec_context.width if s.type == "video" else s.codec_context.sample_rate,
                s.codec_context.height if s.type == "video" else s.codec_context.channels,
                s.codec_context.pix_fmt if s.type == "video" else s.codec_context.format.name,
                str(s.average_rate) if s.type == "video" else "",
                bytes(s.codec_context.extradata or b""),
            )
            for s in streams
        )


def _copyable(sources: list[Path]) -> bool:
    signatures = {_signature(path) for path in sources}
    return len(signatures) == 1


def _join_by_copy(sources: list[Path], clips: list[Source], out_path: Path) -> None:
    """Clips of one encoding joined without decoding: their packets, one clip after the
    other, each clip's times moved on by the pictures before it (sound follows the
    pictures, so it stays in sync clip by clip). A later clip's sound packets that would
    overlap the sound before them (the AAC encoder's priming frame) are left out."""
    with av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        with av.open(str(sources[0])) as first:
            templates = [first.streams.video[0], *first.streams.audio[:1]]
            made = [out.add_stream_from_template(stream) for stream in templates]
        offset = 0.0  # seconds of pictures already written
        last = [None] * len(made)  # the last decoding time written, per stream
        for path, clip in zip(sources, clips, strict=True):
            with av.open(str(path)) as container:
                inputs = [container.streams.video[0], *container.streams.audio[:1]]
                for packet in container.demux(inputs):
                    if packet.dts is None:  # the demuxer's flush packet
                        continue
                    index = inputs.index(packet.stream)
                    shift = round(offset / packet.stream.time_base)
                    packet.pts = None if packet.pts is None else packet.pts + shift
                    packet.dts += shift
                    if last[index] is not None and packet.dts <= last[index]:
                        if packet.stream.type == "audio":
                            continue
                        raise ValueError("pictures out of order at a join")
                    last[index] = packet.dts
                    packet.stream = made[index]
                    out.mux(packet)
            offset += clip.duration


def loop(
    src: Path, out_path: Path, fade: float, on_progress=None, *, encodings: Sequence[dict] = ()
) -> None:
    """A clip that loops seamlessly: it starts ``fade`` seconds in, and its last ``fade``
    seconds dissolve into its own opening, so the last frame leads straight into the first
    (pictures and sound). The result is ``fade`` seconds shorter than the source.

    ``encodings``: x264 options the source may have been made with. When one of them gives
    the source's very SPS and PPS, the whole GOPs between the opening and the dissolve are
    copied and only the frames around them are encoded (with those options); otherwise, or
    when the source has no such GOPs, every frame is encoded."""
    clip = source(src)
    span = round(fade * clip.fps)
    if span < 1 or 2 * span > clip.frames:
        raise ValueError("the loop's crossfade must be between one frame and half the clip")
    sound = None
    if clip.has_audio:
        whole = _sound(clip)
        lead = _at(span, clip.fps)
        body = whole[:, lead:].copy()
        body[:, -lead:] = _fade(body[:, -lead:], whole[:, :lead])
        sound = body
    if encodings:
        try:
            if _spliced(clip, out_path, (span, clip.frames), sound, encodings, on_progress, span):
                return
        except (av.FFmpegError, ValueError):  # the packets' times don't fit: encode it all
            out_path.unlink(missing_ok=True)
    head: list[np.ndarray] = []

    def pictures() -> Iterator[np.ndarray]:
        for index, picture in enumerate(_pictures(clip, clip.width, clip.height)):
            if index < span:
                head.append(picture)
            elif index >= clip.frames - span:
                step = index - (clip.frames - span)
                yield _mix(picture, head[step], (step + 1) / span)
            else:
                yield picture

    total = clip.frames - span
    _write(out_path, pictures(), total, clip.fps, clip.width, clip.height, sound, on_progress)


def _parameter_sets(extradata: bytes | None) -> tuple[bytes, ...]:
    """The SPS and PPS in an H.264 stream's extradata, whether MP4's avcC record or
    Annex B start codes (what x264 gives)."""
    data = bytes(extradata or b"")
    if data[:1] == b"\x01":  # avcC
        found, at = [], 5
        for mask in (0x1F, 0xFF):  # the SPS count shares its byte with reserved bits
            count, at = data[at] & mask, at + 1
            for _ in range(count):
                size = int.from_bytes(data[at : at + 2])
                found.append(data[at + 2 : at + 2 + size])
                at += 2 + size
        return tuple(found)
    return tuple(unit for unit in _nal_units(data))


def _nal_units(data: bytes) -> list[bytes]:
    # Emulation prevention keeps 00 00 0x (x ≤ 3) out of NAL payloads: start codes split.
    return [unit.rstrip(b"\x00") for unit in data.split(b"\x00\x00\x01") if unit.strip(b"\x00")]


def _length_prefixed(data: bytes) -> bytes:
    """An Annex B access unit as MP4 stores it: each NAL unit after its 4-byte length."""
    return b"".join(len(unit).to_bytes(4) + unit for unit in _nal_units(data))


def _encoder(clip: Source, options: dict):
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = clip.width, clip.height, "yuv420p"
    encoder.time_base, encoder.framerate = 1 / clip.fps, clip.fps
    encoder.options = dict(options)
    encoder.flags |= av.codec.context.Flags.global_header  # SPS/PPS apart, as MP4 keeps them
    encoder.open()
    return encoder


def _spliced(
    clip: Source,
    out_path: Path,
    span: tuple[int, int],
    sound: np.ndarray | None,
    encodings: Sequence[dict],
    on_progress: EditProgress | None,
    dissolve: int = 0,
) -> bool:
    """Source frames ``span`` = [start, end) (their last ``dissolve`` mixed into the
    source's first ``dissolve``: a loop), with the source's whole GOPs in between copied
    and only the frames before the first of them and from the last one on encoded, by an
    x264 set up as the source's was, so the stream's one SPS and PPS still describe every
    frame. With no dissolve (a re-cut), the last GOP's packets are copied too as far as
    they decode on their own (``_own_run``), and ``sound`` None means the source's AAC
    packets are copied (``_copied_sound``); else ``sound`` is encoded. False, and nothing
    written, when no options give the source's parameter sets or nothing can be copied
    (then every frame is encoded)."""
    with av.open(str(clip.path)) as container:  # open to the end: the output's template
        return _splice(container, clip, out_path, span, sound, encodings, on_progress, dissolve)


def _own_run(packets: list, index: dict, at: int, end: int) -> int:
    """How many packets from ``packets[at]`` (a keyframe) on, in decoding order, are the
    frames from its own up to some frame before ``end`` and nothing else: a decoder only
    refers to frames it has decoded, so those decode without the rest of their GOP (with
    B-frames, the run ends where a later frame was decoded early, e.g. just after a P)."""
    first, seen, top, count = index[id(packets[at])], set(), -1, 0
    for n in range(at, len(packets)):
        frame = index[id(packets[n])]
        if frame < first or frame >= end or (n > at and packets[n].is_keyframe):
            break
        seen.add(frame)
        top = max(top, frame)
        if len(seen) == top - first + 1:
            count = n - at + 1
    return count


def _splice(container, clip, out_path, span, sound, encodings, on_progress, dissolve) -> bool:
    start, end = span
    video = container.streams.video[0]
    base, offset = video.time_base, video.start_time or 0
    if not base or video.codec_context.name != "h264":
        return False
    sets = _parameter_sets(video.codec_context.extradata)
    probed = None
    for options in encodings:
        probed = (_encoder(clip, options), options)
        if _parameter_sets(probed[0].extradata) == sets:
            break
        probed = None
    if probed is None:
        return False
    options = probed[1]
    packets = [p for p in container.demux(video) if p.dts is not None and p.pts is not None]
    index = {id(p): round((p.pts - offset) * base * clip.fps) for p in packets}
    keys = {index[id(p)]: n for n, p in enumerate(packets) if p.is_keyframe}
    last = end - dissolve  # the first frame of the dissolve (end: none)
    edges = sorted(f for f in keys if start <= f <= last)
    if len(edges) < (2 if dissolve else 1):
        return False
    first, stop = edges[0], edges[-1]
    taken = 0 if dissolve or stop == end else _own_run(packets, index, keys[stop], end)
    kept = packets[keys[first] : keys[stop] + taken]
    stop += taken
    if not kept or sorted(index[id(p)] for p in kept) != list(range(first, stop)):
        return False  # nothing to copy, open GOPs, or frames missing: encode instead
    tick = 1 / clip.fps / base  # ticks a frame
    shift = offset + round(start * tick)  # the in point, moved to time zero
    for packet in kept:
        packet.pts -= shift
        packet.dts -= shift
    encoded = (first - start) + (end - stop)
    done = 0

    def encode(pictures: Iterator[np.ndarray], at: int, count: int) -> list:
        """``count`` pictures from output frame ``at`` on, as MP4 packets in the source's
        time base."""
        nonlocal done, probed
        if not count:
            return []
        # The encoder opened to check the options serves once (opening one costs).
        encoder, made = probed[0] if probed else _encoder(clip, options), []
        probed = None
        for number, picture in enumerate(pictures):
            if isinstance(picture, np.ndarray):
                frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
            else:  # a decoded frame, as it is: x264 would keep its picture type, so unset
                frame = picture.reformat(format="yuv420p")
                frame.pict_type = av.video.frame.PictureType.NONE
                frame.time_base = encoder.time_base  # or PyAV rescales its pts from the file's
            frame.pts = number
            made += encoder.encode(frame)
            done += 1
            if on_progress:
                on_progress(done / encoded)
        made += encoder.encode(None)
        if _parameter_sets(encoder.extradata) != sets:
            raise ValueError("the encoder's parameter sets changed")
        out = []
        for packet in made:
            copy = av.Packet(_length_prefixed(bytes(packet)))
            copy.pts, copy.dts = round((at + packet.pts) * tick), round((at + packet.dts) * tick)
            copy.is_keyframe, copy.time_base = packet.is_keyframe, base
            out.append(copy)
        return out

    head: list[np.ndarray] = []
    if dissolve:
        # A loop's dissolve needs the source's opening too: decoded with the frames
        # before the copied GOPs, from the start.
        head = list(_pictures(clip, clip.width, clip.height, 0, first))
        opening = encode(iter(head[start:]), 0, first - start)
        del head[dissolve:]
    else:  # a re-cut's frames go to the encoder as decoded
        opening = encode(_frames(clip, start, first), 0, first - start)

    def ending() -> Iterator:
        if not dissolve:
            yield from _frames(clip, stop, end)
            return
        for number, picture in enumerate(_pictures(clip, clip.width, clip.height, stop, end)):
            step = stop + number - last
            yield _mix(picture, head[step], (step + 1) / dissolve) if step >= 0 else picture

    closing = encode(ending(), stop - start, end - stop)
    pictures = [*opening, *kept, *closing]
    # Decoding times one frame apart, held back by the source's B-frame delay, as in the
    # source: where a part ends mid-GOP the encoder's own would jump, and MP4 readers take
    # the frame rate from them.
    delay = packets[0].pts - packets[0].dts
    for number, packet in enumerate(pictures):
        packet.dts = round(number * tick) - delay
    if any(packet.dts > packet.pts for packet in pictures):
        raise ValueError("pictures out of order at a splice")
    begin = float(shift * base)
    audio, sounds, back = (
        _copied_sound(container, begin, begin + (end - start) / float(clip.fps))
        if sound is None and not dissolve
        else (None, [], 0)
    )
    with av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        made_video = out.add_stream_from_template(video)
        queue = []
        for packet in pictures:
            packet.stream = made_video
            queue.append(packet)
        if sounds:
            made_audio = out.add_stream_from_template(audio)
            for packet in sounds:
                packet.pts -= back
                packet.dts -= back
                packet.stream = made_audio
                queue.append(packet)
        elif sound is not None:
            made_audio = out.add_stream(
                "aac", rate=EDIT_SAMPLE_RATE, layout="stereo", options=EDIT_AAC
            )
            made_audio.bit_rate = 128_000
            queue += _encode_sound(made_audio, sound)
        queue.sort(key=lambda p: float(p.dts * p.time_base))
        for packet in queue:
            out.mux(packet)
    return True


def _encode_sound(stream, sound: np.ndarray) -> list:
    packets, sent = [], 0
    while sent < sound.shape[1]:
        chunk = np.ascontiguousarray(sound[:, sent : sent + AUDIO_FRAME])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = EDIT_SAMPLE_RATE, sent
        packets += stream.encode(frame)
        sent += chunk.shape[1]
    return packets + stream.encode(None)


def first_frame_jpeg(path: Path, quality: int = 92) -> bytes:
    """The clip's very first picture as a JPEG (a native loop's first and last frame)."""
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.video[0]):
            buffer = io.BytesIO()
            frame.to_image().save(buffer, "JPEG", quality=quality)
            return buffer.getvalue()
    raise ValueError("the clip has no frames")


def last_frame_jpeg(path: Path, quality: int = 92) -> bytes:
    """The clip's very last picture as a JPEG (an extend's first frame)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if container.duration:  # decode only the last GOP or so
            container.seek(max(container.duration - 2 * av.time_base, 0), backward=True)
        last = None
        for frame in container.decode(stream):
            last = frame
    if last is None:
        raise ValueError("the clip has no frames")
    buffer = io.BytesIO()
    last.to_image().save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
