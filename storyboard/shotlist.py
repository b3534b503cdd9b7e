"""Read a shot list as people write one: paragraphs, ``Subject: … Motion: …`` blocks, a
Markdown list, or CSV with SMCLA columns. Everything is read before anything is kept:
a list with a line that can't be read gives per-line errors and no cards.
"""

import csv
import io
import re
from dataclasses import dataclass

from studio.inputs import whole_number
from studio.prompts import SHOT_FIELDS, SHOT_LABELS, Shot

from .models import MAX_CARD_SECONDS

MAX_CHARS = 100_000
# What a label may be called, lower case → field ("seconds" is the card's length).
LABELS = {
    **{name: name for name in SHOT_FIELDS},
    **{label.lower(): name for name, label in SHOT_LABELS.items()},
    "audio": "audio",
    "sound": "audio",
    "mood": "atmosphere",
    "seconds": "seconds",
    "duration": "seconds",
    "length": "seconds",
}
LABEL = re.compile(
    r"(?:^|(?<=[\s.;]))("
    + "|".join(re.escape(k) for k in sorted(LABELS, key=len, reverse=True))
    + r")\s*:",
    re.IGNORECASE,
)
# A bare marker is an item too (an empty one, to be named as such): pasted text loses its
# trailing space, so "- " on the last line arrives as "-".
LIST_ITEM = re.compile(r"^\s*([-*+]|\d{1,3}[.)])(?:\s+(.*))?$")
UNIT = r"(?:seconds?|secs?|s)"
# A list item's length written after it: "…, 4 s", "… — 4s", "… (4 sec)". Only after a
# separator, so "a 4s countdown" stays in the prompt; a decimal is caught here to be refused
# by name rather than left in the text.
TRAILING_SECONDS = re.compile(
    rf"(?:\(\s*(?P<bracketed>\d{{1,4}}(?:\.\d+)?\s*{UNIT})\s*\)"
    rf"|(?:[,;]|\s-|[–—])\s*(?P<after>\d{{1,4}}(?:\.\d+)?\s*{UNIT}))\.?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Line:
    line: int  # where the shot starts in what was pasted (1-based)
    shot: Shot
    seconds: int | None


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}"


class ShotListInvalid(ValueError):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def read(text: str) -> list[Line]:
    """The shots in ``text``, in order; raises ShotListInvalid naming every bad line."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_CHARS:
        raise ShotListInvalid([Problem(1, f"A shot list is at most {MAX_CHARS:,} characters.")])
    if not text.strip():
        raise ShotListInvalid([Problem(1, "Paste or upload a shot list: it's empty.")])
    first = next(line for line in text.split("\n") if line.strip())
    if _is_csv_header(first):
        shots, problems = _read_csv(text)
    elif LIST_ITEM.match(first):
        shots, problems = _read_list(text)
    else:
        shots, problems = _read_paragraphs(text)
    if problems:
        # A list item is judged when the next one starts: say them in the order written.
        raise ShotListInvalid(sorted(problems, key=lambda problem: problem.line))
    if not shots:
        raise ShotListInvalid([Problem(1, "No shots found.")])
    return shots


def _is_csv_header(line: str) -> bool:
    cells = [cell.strip().strip('"').lower() for cell in line.split(",")]
    return (
        len(cells) > 1
        and all(cell in LABELS for cell in cells if cell)
        and "subject" in {LABELS.get(cell) for cell in cells}
    )


def _seconds(value: str, line: int, problems: list[Problem]) -> int | None:
    raw = re.sub(rf"\s*{UNIT}$", "", value.strip().lower())
    seconds = whole_number(raw, max_digits=4)
    if seconds is None or not 1 <= seconds <= MAX_CARD_SECONDS:
        problems.append(
            Problem(line, f"“{value.strip()[:20]}” isn't a length of 1 to {MAX_CARD_SECONDS} s.")
        )
        return None
    return seconds


def _shot(values: dict, line: int, problems: list[Problem]) -> Line | None:
    seconds, before = None, len(problems)
    if (raw := values.pop("seconds", None)) is not None and raw.strip():
        seconds = _seconds(raw, line, problems)
    shot = Shot.from_mapping(values)
    if shot.is_empty:
        problems.append(Problem(line, "no shot here: give it at least a Subject."))
    return Line(line, shot, seconds) if len(problems) == before else None


def _labelled(
    text: str, line: int, problems: list[Problem], seconds: str | None = None
) -> Line | None:
    """``Subject: … Motion: …`` (on one line or several), or free text as the free prompt;
    ``seconds`` is a length read off the end of the text, if any."""
    marks = list(LABEL.finditer(text))
    if not marks:
        return _shot({"prompt": text, "seconds": seconds}, line, problems)
    before = text[: marks[0].start()].strip()
    if before:
        problems.append(Problem(line, f"“{before[:40]}” comes before the first label."))
        return None
    values: dict[str, str] = {}
    for mark, after in zip(marks, [*marks[1:], None], strict=True):
        name = LABELS[mark.group(1).lower()]
        value = text[mark.end() : after.start() if after else len(text)].strip()
        if name in values:
            problems.append(Problem(line, f"{mark.group(1)} is given twice in one shot."))
            return None
        values[name] = value
    if seconds is not None:
        if "seconds" in values:
            problems.append(Problem(line, f"the length is given twice (“{seconds}” at the end)."))
            return None
        values["seconds"] = seconds
    return _shot(values, line, problems)


def _trailing_seconds(text: str) -> tuple[str, str | None]:
    """``text`` without the length written at its end, and that length (None if none)."""
    if match := TRAILING_SECONDS.search(text):
        return text[: match.start()].rstrip(), match["bracketed"] or match["after"]
    return text, None


def _read_paragraphs(text: str):
    shots, problems, block, start = [], [], [], 0
    for number, line in enumerate([*text.split("\n"), ""], 1):
        if line.strip():
            if not block:
                start = number
            block.append(line.strip())
        elif block:
            if found := _labelled("\n".join(block), start, problems):
                shots.append(found)
            block = []
    return shots, problems


def _read_list(text: str):
    shots, problems, item, start, marker = [], [], [], 0, ""

    def flush():
        if not item:
            return
        if not "\n".join(item).strip():
            problems.append(Problem(start, f"an empty item (write the shot after “{marker} ”)."))
            return
        text, seconds = _trailing_seconds("\n".join(item))
        if found := _labelled(text, start, problems, seconds):
            shots.append(found)

    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if match := LIST_ITEM.match(line):
            flush()
            item, start, marker = [(match.group(2) or "").strip()], number, match.group(1)
        elif line.startswith((" ", "\t")) and item:
            item.append(line.strip())  # an item continued on an indented line
        else:
            problems.append(Problem(number, "not a list item (start it with “- ”)."))
    flush()
    return shots, problems


def _read_csv(text: str):
    shots, problems = [], []
    reader = csv.reader(io.StringIO(text))
    header = None
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [LABELS.get(cell.strip().lower(), "") for cell in row]
            continue
        if len(row) > len(header):
            problems.append(
                Problem(number, f"{len(row)} cells, but the header names {len(header)} columns.")
            )
            continue
        values = {name: cell for name, cell in zip(header, row, strict=False) if name}
        if found := _shot(values, number, problems):
            shots.append(found)
    return shots, problems
