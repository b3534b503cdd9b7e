"""A quiet sound bed from the Atmosphere field's audio cues.

Rain is filtered noise, music words are soft tones, anything else is room tone.
Noise is shaped in the frequency domain: one FFT instead of a per-sample filter.
"""

import numpy as np

from .words import mentions

RAIN = ("rain", "raining", "rainy", "drizzle", "downpour", "storm", "thunderstorm", "shower")
MUSIC = (
    "music",
    "musical",
    "score",
    "orchestral",
    "orchestra",
    "piano",
    "strings",
    "melody",
    "song",
    "soundtrack",
    "underscore",
    "synth",
    "jazz",
    "guitar",
    "choir",
    "ambient music",
)
WIND = ("wind", "windy", "breeze", "gust", "gusts")
WAVES = ("waves", "ocean", "sea", "surf", "shore", "beach")
BIRDS = ("bird", "birds", "birdsong", "chirping")

# A minor-key progression (Am, F, C, G) low in the register, two seconds a chord.
CHORDS = (
    (220.0, 261.63, 329.63),
    (174.61, 220.0, 261.63),
    (130.81, 164.81, 196.0),
    (196.0, 246.94, 293.66),
)


def cues(atmosphere: str) -> list[str]:
    found = [
        name
        for name, words in (
            ("rain", RAIN),
            ("music", MUSIC),
            ("wind", WIND),
            ("waves", WAVES),
            ("birds", BIRDS),
        )
        if mentions(atmosphere, *words)
    ]
    return found or ["room tone"]


def _shaped_noise(rng, samples: int, low: float, high: float, rate: int) -> np.ndarray:
    """Stereo noise with energy between ``low`` and ``high`` Hz, unit peak."""
    spectrum = np.fft.rfft(rng.standard_normal((2, samples)).astype(np.float32), axis=1)
    freqs = np.fft.rfftfreq(samples, 1 / rate)
    gain = 1 / (1 + (low / np.maximum(freqs, 1)) ** 2) / (1 + (freqs / high) ** 2)
    noise = np.fft.irfft(spectrum * gain, n=samples, axis=1)
    return noise / max(float(np.abs(noise).max()), 1e-9)


def _tones(samples: int, rate: int) -> np.ndarray:
    t = np.arange(samples, dtype=np.float64) / rate
    chord_seconds = 2.0
    out = np.zeros(samples)
    for index, start in enumerate(np.arange(0, samples / rate, chord_seconds)):
        mask = (t >= start) & (t < start + chord_seconds)
        local = t[mask] - start
        envelope = np.minimum(local / 0.4, 1) * np.minimum((chord_seconds - local) / 0.6, 1)
        for k, freq in enumerate(CHORDS[index % len(CHORDS)]):
            out[mask] += np.sin(2 * np.pi * freq * t[mask]) * envelope / (k + 1.5)
    out /= max(float(np.abs(out).max()), 1e-9)
    return np.stack([out, out])


def _chirps(rng, samples: int, rate: int) -> np.ndarray:
    out = np.zeros(samples)
    for start in rng.uniform(0, max(samples / rate - 0.3, 0.1), max(samples // rate, 1)):
        n = int(0.12 * rate)
        first = int(start * rate)
        t = np.arange(min(n, samples - first)) / rate
        freq = rng.uniform(2500, 4200) + 6000 * t
        out[first : first + t.size] += np.sin(2 * np.pi * freq * t) * np.sin(np.pi * t / 0.12)
    return np.stack([out, np.roll(out, rate // 50)])


def sound_bed(atmosphere: str, seconds: int, rate: int, seed: int) -> np.ndarray:
    """A (2, seconds × rate) float32 array, quiet (peaks well under -10 dBFS)."""
    rng = np.random.default_rng(seed)
    samples = seconds * rate
    bed = np.zeros((2, samples))
    layers = cues(atmosphere)
    if "rain" in layers:
        bed += 0.09 * _shaped_noise(rng, samples, 400, 6000, rate)
    if "music" in layers:
        bed += 0.07 * _tones(samples, rate)
    if "wind" in layers:
        swell = 0.6 + 0.4 * np.sin(np.linspace(0, 2 * np.pi * seconds / 5, samples))
        bed += 0.08 * _shaped_noise(rng, samples, 80, 500, rate) * swell
    if "waves" in layers:
        swell = 0.5 + 0.5 * np.sin(np.linspace(0, 2 * np.pi * seconds / 7, samples)) ** 2
        bed += 0.09 * _shaped_noise(rng, samples, 100, 1500, rate) * swell
    if "birds" in layers:
        bed += 0.03 * _chirps(rng, samples, rate)
    if layers == ["room tone"]:
        bed += 0.012 * _shaped_noise(rng, samples, 40, 300, rate)
    fade = min(int(0.25 * rate), samples // 4)
    ramp = np.linspace(0, 1, fade)
    bed[:, :fade] *= ramp
    bed[:, samples - fade :] *= ramp[::-1]
    return bed.astype(np.float32)
