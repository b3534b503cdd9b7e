"""Paint the still scene the virtual camera moves over.

The scene is larger than the frame (by ``MARGIN``) so the camera has room to
pan, crane and push in. Everything is drawn once per take; frames are crops.
"""

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from .look import Look

MARGIN = 1.35
HORIZON = 0.6  # fraction of the scene height where sky meets ground


def scene_size(width: int, height: int) -> tuple[int, int]:
    return round(width * MARGIN / 2) * 2, round(height * MARGIN / 2) * 2


def _vertical_gradient(top, bottom, rows: int, cols: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, rows, dtype=np.float32)[:, None, None]
    column = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    return np.broadcast_to(column, (rows, cols, 3))


def _ridge(rng: np.random.Generator, cols: int, base: float, amplitude: float) -> np.ndarray:
    """A smooth seeded skyline, as a height (in rows) per column."""
    x = np.linspace(0, 2 * np.pi, cols, dtype=np.float32)
    y = np.zeros(cols, np.float32)
    for octave in (1, 2, 4, 7):
        y += np.sin(x * octave + rng.uniform(0, 2 * np.pi)) * rng.uniform(0.4, 1.0) / octave
    return base + amplitude * y / 1.8


def _mix(a, b, t: float) -> tuple[int, int, int]:
    return tuple(round(x * (1 - t) + y * t) for x, y in zip(a, b, strict=True))


def paint_scene(
    look: Look, width: int, height: int, seed: int, background: Image.Image | None = None
) -> np.ndarray:
    """The scene as an RGB array of ``scene_size(width, height)``."""
    sw, sh = scene_size(width, height)
    if background is not None:
        image = ImageOps.fit(background.convert("RGB"), (sw, sh), Image.Resampling.LANCZOS)
        return np.asarray(image, dtype=np.uint8).copy()

    rng = np.random.default_rng(seed)
    horizon = round(sh * HORIZON)
    pixels = np.empty((sh, sw, 3), np.float32)
    pixels[:horizon] = _vertical_gradient(look.sky_top, look.sky_horizon, horizon, sw)
    pixels[horizon:] = _vertical_gradient(look.ground_far, look.ground_near, sh - horizon, sw)

    if look.light_kind != "none":
        cx = sw * rng.uniform(0.62, 0.8)
        cy = horizon - look.light_height * horizon * 0.9
        radius = min(sw, sh) * (0.05 if look.light_kind == "sun" else 0.035)
        yy, xx = np.ogrid[:sh, :sw]
        distance = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / radius
        glow = np.clip(1.0 / (1.0 + (distance / 2.5) ** 2) * 0.55, 0, 1)
        glow[distance < 1] = 1.0
        light = np.asarray(look.light, np.float32)
        pixels += (light - pixels) * glow[..., None]

    if look.stars:
        count = sw * horizon // 3000
        ys = rng.integers(0, int(horizon * 0.8), count)
        xs = rng.integers(0, sw, count)
        pixels[ys, xs] = rng.uniform(140, 255, (count, 1))

    image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)

    # Two ranges of hills, the far one paler: depth the camera can move across.
    for depth, (base, amplitude) in enumerate(((0.09, 0.05), (0.04, 0.035))):
        ridge = _ridge(rng, sw, horizon - sh * base, sh * amplitude)
        colour = _mix(look.sky_horizon, look.ground_far, 0.45 + 0.3 * depth)
        points = [(0, horizon), *((x, float(ridge[x])) for x in range(0, sw, 8)), (sw, horizon)]
        draw.polygon(points, fill=colour)

    # Ground lines running to a vanishing point on the horizon.
    line = _mix(look.ground_far, look.ground_near, 0.85)
    vanishing = (sw * 0.5, horizon)
    for k in range(-12, 13):
        draw.line([vanishing, (sw * 0.5 + k * sw * 0.12, sh)], fill=line, width=2)
    for k in range(1, 9):
        y = horizon + (sh - horizon) * (k / 9) ** 1.8
        draw.line([(0, y), (sw, y)], fill=line, width=2)

    _stand_in(draw, look, sw, sh, horizon)

    if look.rain:
        rain = Image.new("L", (sw, sh), 0)
        rain_draw = ImageDraw.Draw(rain)
        drop = sh * 0.03
        for x, y in zip(rng.uniform(0, sw, 900), rng.uniform(0, sh, 900), strict=True):
            rain_draw.line([(x, y), (x - drop * 0.25, y + drop)], fill=110, width=1)
        image.paste(_mix(look.sky_horizon, (255, 255, 255), 0.6), mask=rain)

    pixels = np.asarray(image, np.float32)
    if look.haze:
        rows = np.abs(np.arange(sh, dtype=np.float32) - horizon) / sh
        amount = (look.haze * np.clip(1 - rows * 2.2, 0, 1))[:, None, None]
        pixels += (np.asarray(look.sky_horizon, np.float32) - pixels) * amount
    if look.monochrome:
        grey = pixels @ np.asarray([0.299, 0.587, 0.114], np.float32)
        grey = np.clip((grey - 128) * 1.25 + 128, 0, 255)
        pixels = np.repeat(grey[..., None], 3, axis=2)
    return pixels.clip(0, 255).astype(np.uint8)


def _stand_in(draw: ImageDraw.ImageDraw, look: Look, sw: int, sh: int, horizon: int) -> None:
    """A neutral figure standing in for the subject, lit from the light's side."""
    height = sh * 0.34
    cx, feet = sw * 0.5, horizon + sh * 0.12
    head = height * 0.13
    body = _mix(look.ground_near, (0, 0, 0), 0.55)
    rim = _mix(look.light, body, 0.35)
    shadow = _mix(look.ground_near, (0, 0, 0), 0.35)
    draw.ellipse([cx - height * 0.3, feet - 10, cx + height * 0.3, feet + 14], fill=shadow)
    torso = [
        (cx - height * 0.17, feet - height * 0.72),
        (cx + height * 0.17, feet - height * 0.72),
        (cx + height * 0.12, feet),
        (cx - height * 0.12, feet),
    ]
    draw.polygon(torso, fill=body, outline=rim, width=3)
    top = feet - height
    draw.ellipse([cx - head, top, cx + head, top + 2 * head], fill=body, outline=rim, width=3)
