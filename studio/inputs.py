"""Reading what people (and their browsers) type: sizes, whole numbers, fractions.

One home for these rules, so a field can't 500 on what another field refuses:
only ASCII digits count (``"⁴".isdigit()`` is true, ``int("⁴")`` raises), numbers
have a sane number of digits (Python refuses to read over 4,300), and NaN or
infinity is never a fraction.
"""

import math
import re

DIGITS = re.compile(r"[0-9]{1,18}")  # 18 digits: a BigIntegerField holds 19


def whole_number(text, *, max_digits: int = 18) -> int | None:
    """``text`` as a non-negative whole number, or None when it isn't one."""
    text = str(text).strip()
    if len(text) > max_digits or not DIGITS.fullmatch(text):
        return None
    return int(text)


def fraction(text, default: float = 0.5) -> float:
    """``text`` as a number clamped to 0..1; anything else (NaN, inf, words) is ``default``."""
    try:
        value = float(str(text)[:32])
    except ValueError:
        return default
    return min(max(value, 0.0), 1.0) if math.isfinite(value) else default


def parse_size(size: str) -> tuple[int, int]:
    """ "1280x720" → (1280, 720); a size that isn't two numbers raises ValueError."""
    width, sep, height = str(size).strip().lower().replace("×", "x").partition("x")
    width_px, height_px = whole_number(width, max_digits=5), whole_number(height, max_digits=5)
    if not sep or width_px is None or height_px is None:
        raise ValueError(f"“{size}” is not a size like 1280x720.")
    return width_px, height_px
