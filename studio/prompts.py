"""Compose a shot's SMCLA fields into the prompt text a model receives."""

import re
from dataclasses import asdict, dataclass, fields

# A sanity cap per field; each model's own limit applies to the composed prompt.
MAX_PROMPT_CHARS = 32000

# Order and labels follow the SMCLA framework creators already know.
FIELD_LABELS = {
    "subject": "Subject",
    "motion": "Motion",
    "camera": "Camera",
    "lighting": "Lighting",
    "atmosphere": "Atmosphere",
}
# Every field of a shot, as forms, lint, the CLI and the library name and explain it.
SHOT_LABELS = {
    **FIELD_LABELS,
    "prompt": "Free prompt",
    "dialogue": "Dialogue",
    "audio": "Audio cues",
}
SHOT_HINTS = {
    "subject": "who or what",
    "motion": "one action",
    "camera": "framing and move",
    "lighting": "time, light sources",
    "atmosphere": "mood, sound",
    "prompt": "optional, in your own words",
    "dialogue": "who (how): “what”, a line each",
    "audio": "sounds to hear",
}
SHOT_FIELDS = tuple(SHOT_LABELS)


@dataclass(frozen=True)
class Shot:
    subject: str = ""
    motion: str = ""
    camera: str = ""
    lighting: str = ""
    atmosphere: str = ""
    prompt: str = ""
    dialogue: str = ""  # spoken lines, one per line: who (how): “what”
    audio: str = ""  # sound cues: "footsteps on gravel, tense orchestral underscore"

    @classmethod
    def from_mapping(cls, data) -> "Shot":
        return cls(
            **{
                f.name: tidy_lines(data.get(f.name) or "")
                if f.name == "dialogue"
                else tidy(data.get(f.name) or "")
                for f in fields(cls)
            }
        )

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @property
    def is_empty(self) -> bool:
        return not any(self.as_dict().values())


def tidy(text: str) -> str:
    """Collapse runs of whitespace; creators paste from everywhere."""
    return re.sub(r"\s+", " ", str(text)).strip()


def tidy_lines(text: str) -> str:
    """Tidy each line, keep the line breaks (one spoken line per line)."""
    return "\n".join(line for line in (tidy(part) for part in str(text).splitlines()) if line)


def _sentence(text: str) -> str:
    return text if not text or text[-1] in ".!?\"'”’" else text + "."


def compose(shot: Shot) -> str:
    """The prompt text: labelled SMCLA sentences, the free prompt, then dialogue."""
    parts = [
        f"{label}: {_sentence(value)}"
        for name, label in FIELD_LABELS.items()
        if (value := getattr(shot, name))
    ]
    if shot.prompt:
        parts.append(_sentence(shot.prompt))
    if lines := [tidy(line) for line in shot.dialogue.splitlines() if line.strip()]:
        parts.append("Dialogue: " + " ".join(_sentence(line) for line in lines))
    if shot.audio:
        parts.append(f"Audio: {_sentence(shot.audio)}")
    return " ".join(parts)


def word_count(text: str) -> int:
    return len(re.findall(r"[\w'’-]+", text))


def shot_words(shot: Shot) -> int:
    """Words the creator wrote (the SMCLA labels are not counted)."""
    return sum(word_count(value) for value in shot.as_dict().values())
