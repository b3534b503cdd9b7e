"""Providers and models as data (catalogue.toml), with per-endpoint overrides.

Forms, the CLI, cost estimates, validation and the job engine read capabilities
only from here: adding a model is an edit to the data, not to code. An
endpoint may correct any field of a known model or describe a whole new one
(``model_overrides``), so a workspace can use a model the file doesn't list yet.

Models that take an aspect ratio and a resolution instead of a size (most of
fal's) list those; their sizes are derived (16:9 at 720p is 1280x720), so the
composer, the animatic and cost estimates all speak sizes, and the provider
sends the model's own words back (``shape``).
"""

import re
import tomllib
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache
from pathlib import Path

from studio.inputs import parse_size

CATALOGUE = Path(__file__).with_name("catalogue.toml")
DEFAULT_PROVIDER = "animatic"
ANY_MODEL = "*"

STANDARD_SIZES = ("1280x720", "720x1280", "1792x1024", "1024x1792")
PLATFORMS = (
    ("16:9", "16:9 · YouTube"),
    ("9:16", "9:16 · Shorts, Reels, TikTok"),
    ("1:1", "1:1 · square posts"),
)
SQUARE_NOTE = (
    "1:1 isn't a size video models render. Generate 16:9 (or 9:16) and crop it square in your "
    "editor; keep the action near the centre of the frame."
)
# Short side in pixels of each resolution word models use ("4k" and "2160p" alike).
RESOLUTION_PIXELS = {
    "360p": 360,
    "480p": 480,
    "540p": 540,
    "720p": 720,
    "768p": 768,
    "1080p": 1080,
    "1440p": 1440,
    "2160p": 2160,
    "4k": 2160,
}
ASPECTS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:3": (4, 3), "3:4": (3, 4)}
SIZE_LABELS = {
    "1280x720": "16:9 landscape · YouTube",
    "720x1280": "9:16 portrait · Shorts, Reels, TikTok",
    "1792x1024": "16:9 large landscape",
    "1024x1792": "9:16 large portrait",
    "1920x1080": "16:9 full HD",
    "1080x1920": "9:16 full HD",
}


@dataclass(frozen=True)
class SizeOption:
    size: str

    @property
    def width(self) -> int:
        return parse_size(self.size)[0]

    @property
    def height(self) -> int:
        return parse_size(self.size)[1]

    @property
    def label(self) -> str:
        if self.size in SIZE_LABELS:
            return SIZE_LABELS[self.size]
        shape = next(
            (
                name
                for name, (a, d) in ASPECTS.items()
                if abs(a / d - self.width / self.height) < 0.02
            ),
            "",
        )
        return f"{shape} · {min(self.width, self.height)}p".lstrip(" ·")


def derived_size(aspect: str, resolution: str) -> str:
    """The pixel size of an aspect ratio at a resolution: ("9:16", "720p") → "720x1280"."""
    across, down = ASPECTS[aspect]
    short = RESOLUTION_PIXELS[resolution]
    if across >= down:
        return f"{_even(short * across / down)}x{short}"
    return f"{short}x{_even(short * down / across)}"


def _even(value: float) -> int:
    return int(round(value / 2) * 2)  # encoders want even sides


class CatalogueInvalid(ValueError):
    """A catalogue entry (the file's or an endpoint's) that can't describe a model."""


@dataclass(frozen=True)
class ModelInfo:
    """What one model accepts, costs and takes.

    ``wire`` says how the provider's request spells things (field names and the
    duration's format); capabilities such as a negative prompt or an audio switch
    exist exactly when the wire names a field for them.
    """

    provider: str
    model: str
    label: str
    sizes: tuple[SizeOption, ...]
    seconds: tuple[int, ...]
    max_prompt_chars: int
    image_reference: bool = False
    last_frame: bool = False
    audio: bool = False
    operations: tuple[str, ...] = ()
    prices: dict[str, Decimal] = field(default_factory=dict)
    typical_base: float = 60.0
    typical_per_second: float = 5.0
    aspects: tuple[str, ...] = ()
    resolutions: tuple[str, ...] = ()
    wire: dict = field(default_factory=dict)
    workflow: str = ""
    fps: int = 24
    source: str = ""

    @property
    def audio_switch(self) -> bool:
        """The creator may turn the model's sound off (it then often costs less)."""
        return bool(self.wire.get("audio"))

    @property
    def negative_prompt(self) -> bool:
        return bool(self.wire.get("negative_prompt"))

    def shape(self, size: str) -> tuple[str, str]:
        """The model's own aspect and resolution words for one of its sizes ("" if none)."""
        for aspect in self.aspects or ASPECTS:
            for resolution in self.resolutions or ():
                if derived_size(aspect, resolution) == size:
                    return aspect, resolution
        width, height = parse_size(size)
        aspect = "16:9" if width > height else "9:16" if height > width else "1:1"
        return aspect, f"{min(width, height)}p"

    @property
    def size_values(self) -> tuple[str, ...]:
        return tuple(option.size for option in self.sizes)

    @property
    def default_size(self) -> str:
        return self.size_values[0]

    @property
    def default_seconds(self) -> int:
        return self.seconds[0]

    def size_for(self, platform: str) -> str | None:
        """The model's size for a platform's shape: 16:9, 9:16, or 1:1 where it renders one."""
        if platform not in ("16:9", "9:16", "1:1"):
            return None
        for option in self.sizes:
            across, down = option.width, option.height
            shape = "1:1" if across == down else "9:16" if down > across else "16:9"
            if shape == platform:
                return option.size
        return None

    def price_per_second(self, size: str, audio: bool = False) -> Decimal | None:
        """The price for a size, looked up by size, then by resolution word, then "default";
        with sound on, a "+audio" price wins where the model has one."""
        _, resolution = self.shape(size) if size else ("", "")
        keys = [size, resolution, "default"]
        if audio and self.audio:
            keys = [f"{key}+audio" for key in keys] + keys
        return next((self.prices[key] for key in keys if key in self.prices), None)

    def estimate(self, size: str, seconds: int, audio: bool = False) -> Decimal | None:
        """What a render costs: seconds × the price for the size (None when unknown)."""
        price = self.price_per_second(size, audio)
        return None if price is None else (price * seconds).quantize(Decimal("0.0001"))

    def typical_render_seconds(self, seconds: int) -> float:
        return self.typical_base + self.typical_per_second * seconds

    def with_overrides(self, overrides: dict) -> "ModelInfo":
        """This model with an endpoint's corrections (its own prices, sizes, timings)."""
        if not overrides:
            return self
        changed = replace(self, **_fields(overrides))
        if ("aspects" in overrides or "resolutions" in overrides) and "sizes" not in overrides:
            changed = replace(changed, sizes=_derived_sizes(changed.aspects, changed.resolutions))
        return _checked(changed)


REQUIRED = ("provider", "model", "label", "seconds", "max_prompt_chars")
SIMPLE = (
    "provider",
    "model",
    "label",
    "max_prompt_chars",
    "image_reference",
    "last_frame",
    "audio",
    "workflow",
    "fps",
    "source",
)


def _fields(entry: dict) -> dict:
    """Catalogue-file keys → ModelInfo fields (only the keys present)."""
    out = {}
    try:
        for key, value in entry.items():
            match key:
                case "sizes":
                    out["sizes"] = tuple(SizeOption(str(size).lower()) for size in value)
                case "seconds":
                    out[key] = tuple(int(second) for second in value)
                case "operations" | "aspects" | "resolutions":
                    out[key] = tuple(str(item) for item in value)
                case "price":
                    out["prices"] = {str(k): Decimal(str(amount)) for k, amount in value.items()}
                case "typical_render":
                    out["typical_base"] = float(value.get("base", 60))
                    out["typical_per_second"] = float(value.get("per_second", 5))
                case "wire":
                    out["wire"] = dict(value)
                case _ if key in SIMPLE:
                    out[key] = value
    except (TypeError, ValueError, ArithmeticError, AttributeError) as error:
        raise CatalogueInvalid(f"“{key}” has a value Slate can't read ({error}).") from error
    return out


def _derived_sizes(aspects, resolutions) -> tuple[SizeOption, ...]:
    return tuple(
        SizeOption(derived_size(aspect, resolution))
        for resolution in resolutions
        for aspect in aspects or ("16:9",)
        if aspect in ASPECTS and resolution in RESOLUTION_PIXELS  # the rest: _checked says
    )


def _checked(info: ModelInfo) -> ModelInfo:
    """Refuse an entry that names words Slate can't turn into sizes, or has no sizes."""
    unknown = [a for a in info.aspects if a not in ASPECTS] + [
        r for r in info.resolutions if r not in RESOLUTION_PIXELS
    ]
    if unknown:
        raise CatalogueInvalid(
            f"{info.model}: unknown aspect or resolution {', '.join(unknown)} "
            f"(known: {', '.join(ASPECTS)}; {', '.join(RESOLUTION_PIXELS)})."
        )
    for option in info.sizes:
        if not re.fullmatch(r"\d{2,5}x\d{2,5}", option.size):
            raise CatalogueInvalid(f"{info.model}: “{option.size}” is not a size like 1280x720.")
    if not info.sizes or not info.seconds:
        raise CatalogueInvalid(
            f"{info.model}: it needs sizes (or aspects and resolutions) and seconds."
        )
    return info


def entry_to_info(entry: dict) -> ModelInfo:
    """One catalogue entry (from the file or an endpoint) as a ModelInfo, checked."""
    missing = [key for key in REQUIRED if key not in entry]
    if missing:
        raise CatalogueInvalid(f"A model entry needs {', '.join(missing)}.")
    fields = _fields(entry)
    if "sizes" not in fields:
        fields["sizes"] = _derived_sizes(fields.get("aspects", ()), fields.get("resolutions", ()))
    return _checked(ModelInfo(**fields))


@cache
def catalogue() -> dict[tuple[str, str], ModelInfo]:
    data = tomllib.loads(CATALOGUE.read_text())
    return {(e["provider"], e["model"]): entry_to_info(e) for e in data["models"]}


def model_info(provider: str, model: str, overrides: dict | None = None) -> ModelInfo | None:
    """A model's capabilities: the catalogue's, corrected by an endpoint's ``overrides``; a
    model the catalogue lacks is described whole by the overrides, or else gets its kind's
    ``*`` entry when there is one."""
    info = catalogue().get((provider, model))
    if info is None and overrides and "seconds" in overrides:
        return entry_to_info({"provider": provider, "model": model, "label": model, **overrides})
    if info is None and (fallback := catalogue().get((provider, ANY_MODEL))):
        info = replace(fallback, model=model, label=model)
    return info.with_overrides(overrides or {}) if info else None


def models_of(provider: str) -> list[ModelInfo]:
    return [
        info for (kind, name), info in catalogue().items() if kind == provider and name != ANY_MODEL
    ]


def animatic() -> ModelInfo:
    return catalogue()[(DEFAULT_PROVIDER, DEFAULT_PROVIDER)]
