"""The Lighting field as a palette: what the animatic's sky, ground and light look like."""

from dataclasses import dataclass, replace

from .words import mentions

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Look:
    name: str
    sky_top: RGB
    sky_horizon: RGB
    ground_far: RGB
    ground_near: RGB
    light: RGB
    light_kind: str = "sun"  # sun, moon, lamp or none
    light_height: float = 0.45  # 0 = horizon, 1 = top of the sky
    monochrome: bool = False
    stars: bool = False
    haze: float = 0.0
    rain: bool = False


LOOKS = {
    "daylight": Look(
        "daylight", (92, 146, 214), (196, 220, 238), (118, 138, 96), (70, 92, 58), (255, 250, 230)
    ),
    "golden hour": Look(
        "golden hour",
        (74, 92, 160),
        (252, 176, 96),
        (150, 104, 70),
        (84, 56, 42),
        (255, 208, 120),
        light_height=0.12,
    ),
    "night": Look(
        "night",
        (6, 10, 30),
        (28, 42, 82),
        (20, 28, 44),
        (8, 12, 22),
        (214, 226, 255),
        light_kind="moon",
        light_height=0.7,
        stars=True,
    ),
    "noir": Look(
        "noir",
        (18, 18, 18),
        (120, 120, 120),
        (60, 60, 60),
        (12, 12, 12),
        (255, 255, 255),
        light_kind="lamp",
        light_height=0.55,
        monochrome=True,
    ),
    "overcast": Look(
        "overcast",
        (150, 158, 166),
        (190, 194, 198),
        (120, 126, 120),
        (88, 94, 90),
        (220, 222, 224),
        light_kind="none",
        haze=0.15,
    ),
    "blue hour": Look(
        "blue hour",
        (30, 44, 100),
        (120, 120, 180),
        (52, 56, 84),
        (26, 28, 46),
        (255, 214, 170),
        light_kind="lamp",
        light_height=0.05,
    ),
    "neon": Look(
        "neon",
        (28, 8, 52),
        (170, 40, 150),
        (30, 20, 60),
        (10, 8, 24),
        (80, 240, 255),
        light_kind="lamp",
        light_height=0.3,
    ),
    "firelight": Look(
        "firelight",
        (22, 12, 8),
        (120, 58, 22),
        (70, 38, 20),
        (26, 14, 8),
        (255, 168, 80),
        light_kind="lamp",
        light_height=0.1,
    ),
    "studio": Look(
        "studio",
        (228, 228, 230),
        (244, 244, 246),
        (236, 236, 238),
        (210, 210, 214),
        (255, 255, 255),
        light_kind="none",
    ),
    "soft daylight": Look(
        "soft daylight",
        (150, 176, 204),
        (232, 226, 210),
        (160, 150, 124),
        (110, 100, 82),
        (255, 244, 220),
        light_height=0.6,
        haze=0.08,
    ),
}

# First match wins: the more specific looks come before the general ones.
RULES: list[tuple[str, tuple[str, ...]]] = [
    ("noir", ("noir", "black and white", "black-and-white", "monochrome", "b&w", "grayscale")),
    ("neon", ("neon", "cyberpunk", "rgb lights")),
    ("firelight", ("candle", "candlelight", "candlelit", "firelight", "fireplace", "campfire")),
    ("blue hour", ("blue hour", "twilight", "dusk")),
    ("night", ("night", "nighttime", "moonlight", "moonlit", "midnight", "starry", "starlight")),
    ("golden hour", ("golden hour", "sunset", "sunrise", "dawn", "magic hour", "warm glow")),
    ("overcast", ("overcast", "cloudy", "grey sky", "gray sky", "flat light", "diffused", "rainy")),
    ("studio", ("studio", "softbox", "three-point", "cyclorama", "white backdrop", "seamless")),
    ("daylight", ("noon", "midday", "harsh sun", "bright sun", "sunny", "daylight", "high sun")),
    ("soft daylight", ("window light", "afternoon", "soft light", "morning")),
]


def look_for(lighting: str, atmosphere: str = "") -> Look:
    """The palette for a shot, chosen from the Lighting field (Atmosphere adds weather)."""
    name = next(
        (name for name, words in RULES if mentions(lighting, *words)),
        next((name for name, words in RULES if mentions(atmosphere, *words)), "daylight"),
    )
    look = LOOKS[name]
    weather = f"{lighting} {atmosphere}"
    if mentions(weather, "fog", "foggy", "mist", "misty", "haze", "hazy", "smoke", "dust"):
        look = replace(look, haze=max(look.haze, 0.4))
    if mentions(weather, "rain", "raining", "rainy", "drizzle", "storm", "downpour"):
        look = replace(look, rain=True, haze=max(look.haze, 0.2))
    return look
