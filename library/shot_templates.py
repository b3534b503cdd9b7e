"""Built-in shot templates (templates.toml) and {variables} in any shot's fields."""

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from studio.prompts import SHOT_FIELDS

VARIABLE = re.compile(r"\{([a-z][a-z0-9_]{0,30})\}")
MAX_VALUE = 300


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    example: str = ""


@dataclass(frozen=True)
class ShotTemplate:
    key: str
    name: str
    description: str
    fields: dict[str, str]
    settings: dict[str, object]
    variables: tuple[Variable, ...]


@cache
def builtin() -> dict[str, ShotTemplate]:
    data = tomllib.loads(Path(__file__).with_name("templates.toml").read_text())
    return {
        entry["key"]: ShotTemplate(
            key=entry["key"],
            name=entry["name"],
            description=entry["description"],
            fields={k: entry[k] for k in SHOT_FIELDS if k in entry},
            settings={k: entry[k] for k in ("size", "seconds") if k in entry},
            variables=tuple(Variable(**v) for v in entry.get("variables", [])),
        )
        for entry in data["templates"]
    }


def variables_in(fields: dict[str, str]) -> list[str]:
    """The {variables} a shot's fields use, in order of first appearance."""
    return list(dict.fromkeys(m for text in fields.values() for m in VARIABLE.findall(text or "")))


def fill(fields: dict[str, str], values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The fields with every {variable} replaced, and errors by variable name (if any)."""
    errors = {}
    for name in variables_in(fields):
        value = " ".join(str(values.get(name) or "").split())
        if not value:
            errors[name] = "Fill this in."
        elif len(value) > MAX_VALUE:
            errors[name] = f"Keep it under {MAX_VALUE} characters."
    if errors:
        return fields, errors
    filled = {
        key: VARIABLE.sub(lambda m: " ".join(str(values[m.group(1)]).split()), text or "")
        for key, text in fields.items()
    }
    return filled, {}
