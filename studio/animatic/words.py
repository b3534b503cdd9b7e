import re


def mentions(text: str, *phrases: str) -> bool:
    """True when any phrase occurs in text as whole words (case-insensitive)."""
    return any(re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", text, re.I) for p in phrases)
