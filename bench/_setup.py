"""Shared set-up for bench scripts: Django on a throwaway data folder."""

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def django_on_scratch_data() -> Path:
    var = Path(tempfile.mkdtemp(prefix="slate-bench-"))
    os.environ["SLATE_VAR_DIR"] = str(var)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    # The simulators live on loopback and made-up hosts, as in the tests.
    os.environ.setdefault("SLATE_ALLOW_PRIVATE_PROVIDERS", "true")
    sys.path.insert(0, str(REPO))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return var


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def table(headers: list[str], rows: list[list]) -> str:
    cells = [headers, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *map(line, cells[1:])])


class Patches:
    """Attributes set for a bench run and put back when its ``with`` block ends, however it
    ends. Its ``setattr`` is the one tests.support.engine's ``connect*`` helpers call on
    pytest's monkeypatch fixture, so a bench wires a simulator exactly as the tests do."""

    _absent = object()

    def __init__(self):
        self._saved: list[tuple[object, str, object]] = []

    def setattr(self, target: object, name: str, value: object) -> None:
        self._saved.append((target, name, getattr(target, name, self._absent)))
        setattr(target, name, value)

    def __enter__(self) -> "Patches":
        return self

    def __exit__(self, *exc) -> None:
        while self._saved:
            target, name, value = self._saved.pop()
            if value is self._absent:
                delattr(target, name)
            else:
                setattr(target, name, value)
