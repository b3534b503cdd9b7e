"""The animatic renderer: real MP4s, decoded with PyAV and checked frame by frame."""

from pathlib import Path

import av
import numpy as np
import pytest

from studio.animatic.camera import move_for
from studio.animatic.look import look_for
from studio.animatic.render import AnimaticSpec, render_animatic
from studio.animatic.sound import cues, sound_bed


def render(tmp_path: Path, name="clip.mp4", **overrides) -> Path:
    spec = {
        "width": 1280,
        "height": 720,
        "seconds": 4,
        "seed": 7,
        "subject": "lighthouse keeper",
        "motion": "climbs the stairs",
        "camera": "static tripod shot",
        "lighting": "overcast",
        "atmosphere": "room tone",
        "dialogue": '"Almost there."',
    }
    spec.update(overrides)
    path = tmp_path / name
    render_animatic(AnimaticSpec(**spec), path)
    return path


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize(("size", "seconds"), [((1280, 720), 4), ((720, 1280), 8)])
def test_mp4_is_h264_and_aac_at_exact_size_rate_and_length(tmp_path, size, seconds):
    path = render(tmp_path, width=size[0], height=size[1], seconds=seconds)
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "h264"
        assert audio.codec_context.name == "aac"
        assert (video.codec_context.width, video.codec_context.height) == size
        assert video.average_rate == 24
        assert container.duration / av.time_base == pytest.approx(seconds, abs=0.05)
    assert len(decode(path)) == seconds * 24


def test_a_camera_move_changes_the_picture_and_a_static_camera_does_not(tmp_path):
    static = decode(render(tmp_path, "static.mp4", camera="locked-off static shot"))
    moving = decode(render(tmp_path, "push.mp4", camera="slow dolly in on his face"))
    assert mean_difference(static[0], static[-1]) < 1.0
    assert mean_difference(moving[0], moving[-1]) > 4


@pytest.mark.parametrize(
    ("camera", "label"),
    [
        ("slow push-in from medium to close-up", "push in"),
        ("dolly out to reveal the bay", "pull out"),
        ("pan left across the harbour", "pan left"),
        ("truck right with the runner", "pan right"),
        ("crane up over the rooftops", "crane up"),
        ("tilt down to the puddle", "crane down"),
        ("handheld, following close", "handheld"),
        ("handheld push in", "push in + handheld"),
        ("static wide shot", "static"),
        ("", "static"),
    ],
)
def test_camera_words_become_moves(camera, label):
    assert move_for(camera).label == label


def _shift(first: np.ndarray, last: np.ndarray, axis: int) -> int:
    """How far the picture content moved between two frames along ``axis`` (pixels).

    Compares brightness profiles (column means for x, row means for y) of the
    area above the captions at every offset and keeps the best match.
    """
    region = (slice(100, 540), slice(0, 1280))
    a = first[region].mean(axis=(2, 1 - axis))
    b = last[region].mean(axis=(2, 1 - axis))

    def mismatch(s: int) -> float:
        overlap = len(a) - abs(s)
        return float(
            np.abs(a[max(-s, 0) : max(-s, 0) + overlap] - b[max(s, 0) : max(s, 0) + overlap]).mean()
        )

    return min(range(-len(a) // 2, len(a) // 2), key=mismatch)


def test_pan_moves_the_picture_sideways_and_crane_moves_it_vertically(tmp_path):
    pan = decode(render(tmp_path, "pan.mp4", camera="pan right", lighting="golden hour"))
    crane = decode(render(tmp_path, "crane.mp4", camera="crane up", lighting="golden hour"))
    # The camera pans right, so what it sees slides left; it cranes up, so things slide down.
    assert _shift(pan[0], pan[-1], axis=1) < -200
    assert abs(_shift(pan[0], pan[-1], axis=0)) <= 4
    assert _shift(crane[0], crane[-1], axis=0) > 100


def test_same_inputs_and_seed_give_the_same_bytes(tmp_path):
    same = {"camera": "handheld push in", "atmosphere": "rain", "seconds": 1}
    first = render(tmp_path, "a.mp4", **same)
    second = render(tmp_path, "b.mp4", **same)
    other_seed = render(tmp_path, "c.mp4", **same, seed=8)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other_seed.read_bytes()


def test_progress_is_reported_for_every_frame(tmp_path):
    calls = []
    spec = AnimaticSpec(width=1280, height=720, seconds=4, seed=1, subject="x")
    render_animatic(spec, tmp_path / "p.mp4", lambda done, total: calls.append((done, total)))
    frames = [call for call in calls if call[0]]
    assert frames == [(n, 96) for n in range(1, 97)]
    # Before the first frame, the setup says it is alive ("0 done"), so a lease holds.
    assert calls[: len(calls) - 96] == [(0, 96)] * (len(calls) - 96) and len(calls) > 96


def test_progress_callback_can_stop_the_render(tmp_path):
    def stop(done, total):
        if done == 10:
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        render_animatic(AnimaticSpec(1280, 720, 4, 1, subject="x"), tmp_path / "s.mp4", stop)


def _frame_colour(tmp_path, lighting) -> np.ndarray:
    frames = decode(
        render(
            tmp_path,
            f"{lighting}.mp4",
            lighting=lighting,
            subject="",
            motion="",
            dialogue="",
            seconds=1,  # the palette is in every frame: one second shows it
        )
    )
    return frames[0][150:350].reshape(-1, 3).mean(axis=0)  # the sky, clear of captions


def test_lighting_sets_the_palette(tmp_path):
    golden = _frame_colour(tmp_path, "golden hour")
    night = _frame_colour(tmp_path, "night, moonlight")
    noir = _frame_colour(tmp_path, "film noir")
    overcast = _frame_colour(tmp_path, "overcast")
    assert golden[0] > golden[2] + 20  # warm: more red than blue
    assert night.mean() < 70 and night[2] > night[0]  # dark and cool
    assert max(noir) - min(noir) < 6  # monochrome
    assert max(overcast) - min(overcast) < 40 and 110 < overcast.mean() < 220  # flat grey


def test_lighting_words_and_weather():
    assert look_for("warm sunset glow").name == "golden hour"
    assert look_for("", "black and white, tense").name == "noir"
    assert look_for("no idea").name == "daylight"
    assert look_for("night", "heavy rain").rain
    assert look_for("dawn", "morning fog").haze >= 0.4


def test_captions_and_label_are_drawn(tmp_path):
    with_text = decode(render(tmp_path, "t.mp4", subject="a very long subject " * 3, seconds=1))[0]
    without = decode(render(tmp_path, "n.mp4", subject="", motion="", dialogue="", seconds=1))[0]
    label = (slice(24, 90), slice(24, 300))  # the amber "ANIMATIC PREVIEW" badge
    assert with_text[label].reshape(-1, 3).mean(axis=0)[0] > 180
    assert without[label].reshape(-1, 3).mean(axis=0)[0] > 180  # the label is always there
    captions = (slice(560, 700), slice(40, 1240))
    assert mean_difference(with_text[captions], without[captions]) > 5


def _energy(signal: np.ndarray, low: float, high: float, rate=48_000) -> float:
    spectrum = np.abs(np.fft.rfft(signal[0])) ** 2
    freqs = np.fft.rfftfreq(signal.shape[1], 1 / rate)
    return float(spectrum[(freqs >= low) & (freqs < high)].sum() / spectrum.sum())


def test_sound_bed_follows_the_audio_cues():
    assert cues("steady rain on a tin roof") == ["rain"]
    assert cues("tense orchestral underscore") == ["music"]
    assert cues("peaceful") == ["room tone"]
    rain = sound_bed("rain", 4, 48_000, 1)
    music = sound_bed("soft piano music", 4, 48_000, 1)
    room = sound_bed("quiet", 4, 48_000, 1)
    assert _energy(rain, 1000, 8000) > 0.5  # broadband hiss
    assert _energy(room, 0, 400) > 0.8  # low rumble
    peaks = np.sort(np.abs(np.fft.rfft(music[0])))[-12:]
    assert peaks.min() > 20 * np.abs(np.fft.rfft(music[0])).mean()  # tonal, not noise
    for bed in (rain, music, room):
        assert bed.shape == (2, 4 * 48_000)
        assert 0 < np.abs(bed).max() < 0.3  # quiet


def test_audio_track_is_not_silent(tmp_path):
    path = render(tmp_path, atmosphere="rain")
    with av.open(str(path)) as container:
        samples = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    assert samples.shape[1] == pytest.approx(4 * 48_000, abs=2048)
    assert 0.005 < np.abs(samples).mean() < 0.2


def test_a_reference_image_becomes_the_background(tmp_path):
    from PIL import Image

    picture = tmp_path / "ref.png"
    Image.new("RGB", (1280, 720), (20, 160, 150)).save(picture)
    frames = decode(
        render(tmp_path, "ref.mp4", background=picture, subject="", motion="", dialogue="")
    )
    sky = frames[0][150:350].reshape(-1, 3).mean(axis=0)
    assert abs(sky[0] - 20) < 12 and abs(sky[1] - 160) < 12 and abs(sky[2] - 150) < 12
