"""Frame sizes as Slate writes them: "WIDTHxHEIGHT" (1280x720)."""


def parse_size(size: str) -> tuple[int, int]:
    """ "1280x720" → (1280, 720); a size that isn't two numbers raises ValueError."""
    width, sep, height = size.strip().lower().replace("×", "x").partition("x")
    if not sep:
        raise ValueError(f"“{size}” is not a size like 1280x720.")
    return int(width), int(height)
