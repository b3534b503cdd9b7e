"""Prompt lint: the rules of thumb creators follow, as pure functions.

One module for the page, the CLI and submission. Each finding has a stable
rule id (part of the interface), a severity (an error blocks submission;
warnings and info do not), the field it concerns, a message, and where
possible a suggestion: the field's whole text with the fix applied, so the
page can apply it with one click. A suggestion is offered only if its own rule
is quiet on the fixed text; otherwise the message alone says what to do.
The rules, their ids and their fixes are listed in docs/prompt-lint.md.

Every pattern is a flat alternation without nested repetition, so matching is
linear in the text: no input makes the linter slow (tests/studio/test_lint.py).
"""

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from .prompts import FIELD_LABELS, SHOT_LABELS, Shot, compose, shot_words, tidy

ERROR, WARNING, INFO = "error", "warning", "info"
SHORT, LONG = 30, 150

LABELS = SHOT_LABELS
DESCRIBING = (*FIELD_LABELS, "prompt")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    field: str | None
    message: str
    suggestion: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def label(self) -> str:
        return LABELS.get(self.field or "", "Prompt")


def words(*options: str) -> re.Pattern:
    return re.compile(r"(?<![\w-])(?:" + "|".join(options) + r")(?![\w-])", re.IGNORECASE)


VAGUE = words(
    "beautiful",
    "beautifully",
    "amazing",
    "stunning",
    "stunningly",
    "epic",
    "gorgeous",
    "breathtaking",
    "awesome",
    "incredible",
    "incredibly",
    "magnificent",
    "spectacular",
    "majestic",
    "wonderful",
    "fantastic",
    "perfect",
    "perfectly",
    "nice",
    "cool",
    "lovely",
    "masterpiece",
    "high quality",
    "best quality",
    "ultra realistic",
    "hyper realistic",
    "hyperrealistic",
    "award winning",
    "award-winning",
    "insane",
    "mind-blowing",
    "4k",
    "8k",
)
# A praise word and the comma after it, so removing it leaves a clean list.
VAGUE_WITH_COMMA = re.compile(VAGUE.pattern + r"(?:\s*,)?", re.IGNORECASE)
# What praise leaves behind may show nothing: "nice lighting" without "nice" is the field's name.
NOTHING_SHOWN = words(
    *FIELD_LABELS,
    r"lights?",
    r"shots?",
    "scene",
    "video",
    "footage",
    "image",
    "picture",
    "view",
    "look",
    "quality",
    r"colou?rs?",
    r"details?",
    "composition",
    "mood",
    r"an?",
    "the",
    "and",
    "with",
    "very",
    "so",
    "really",
    "of",
)
NEGATIVE = words(
    r"no\s+\w+",
    r"not\s+\w+",
    r"don'?t",
    r"do\s+not",
    r"doesn'?t",
    r"without",
    r"never",
    r"avoid\w*",
    r"nobody",
    r"no\s+one",
    r"nothing",
)
# Positive ways to say what a negative phrase means (docs/prompt-lint.md's examples and kin).
REFRAMES: list[tuple[re.Pattern, str]] = [
    (
        words(
            r"(?:with\s+)?no\s+(?:people|one|pedestrians|crowds?|humans|persons)"
            r"(?:\s+in\s+the\s+background)?",
            r"without\s+(?:people|anyone)",
        ),
        "empty of people",
    ),
    (
        words(
            r"not\s+(?:a\s+)?(?:cartoon(?:ish|y)?|animated|anime|cgi|3d)",
            r"no\s+(?:cartoon|animation|cgi)",
        ),
        "photorealistic live-action footage",
    ),
    (words(r"without\s+blur"), "in sharp focus"),
    (words(r"no\s+blur"), "sharp focus"),
    (words(r"not\s+blurry"), "sharp"),
    # Steady, not static: a camera that moves smoothly has no shake either.
    (words(r"no\s+(?:camera\s+)?shak(?:e|ing)"), "a steady, smooth camera"),
    (words(r"not\s+shaky"), "steady and smooth"),
    (words(r"not\s+dark"), "brightly lit"),
    (words(r"not\s+bright"), "dimly lit"),
    (words(r"(?:an?\s+)?sky\s+with\s+no\s+clouds", r"no\s+clouds"), "a clear, cloudless sky"),
    (words(r"no\s+rain"), "dry weather"),
    (words(r"no\s+(?:text|words|logos?|watermarks?|letters)"), "clean, unlettered surfaces"),
    (words(r"no\s+music"), "natural ambient sound only"),
    (words(r"no\s+(?:sound|noise)"), "quiet room tone"),
    (words(r"(?:don'?t|do\s+not)\s+move"), "stay perfectly still"),
    (words(r"not\s+moving"), "perfectly still"),
    (words(r"no\s+movement"), "perfect stillness"),
    (words(r"not\s+crowded"), "quiet, with only a few people"),
]
CAMERA_WORDS = words(
    r"wide(?:\s+|-)(?:shot|angle)",
    r"medium(?:\s+|-)(?:shot|close-?up|wide)",
    r"close-?ups?",
    r"extreme\s+close-?up",
    r"establishing(?:\s+shot)?",
    "aerial",
    "drone",
    "overhead",
    "top-down",
    r"bird'?s-eye",
    "pov",
    "point of view",
    r"over-the-shoulder",
    "tracking",
    r"dolly(?:\s+(?:in|out|left|right))?",
    r"pans?",
    "panning",
    r"tilts?",
    "tilting",
    r"cranes?",
    "jib",
    "handheld",
    "hand-held",
    "steadicam",
    "static",
    "locked-off",
    "tripod",
    r"zooms?",
    "zooming",
    r"push(?:es)?(?:-|\s+)in",
    r"pull(?:s)?(?:-|\s+)(?:back|out)",
    "orbit",
    "orbits",
    "orbiting",
    r"arc\s+shot",
    r"dutch\s+angle",
    r"low(?:-|\s+)angle",
    r"high(?:-|\s+)angle",
    r"eye(?:-|\s+)level",
    "macro",
    r"rack\s+focus",
    r"whip\s+pan",
    "two-shot",
    r"insert\s+shot",
    "telephoto",
    r"\d{2,3}\s?mm",
    "framing",
    "framed",
    r"truck(?:s|ing)?\s+(?:left|right)",
    "shot on",
    "lens",
)
MOVES = {
    "push": words(
        r"push(?:es)?(?:-|\s+)in",
        r"dolly(?:ing)?(?:-|\s+)in",
        r"dollies\s+in",
        r"zoom(?:s)?\s+in",
        "creep in",
    ),
    "pull": words(
        r"pull(?:s)?(?:-|\s+)(?:back|out)",
        r"dolly(?:ing)?(?:-|\s+)out",
        r"dollies\s+out",
        r"zoom(?:s)?\s+out",
    ),
    "pan": words(r"pans?", "panning", r"whip\s+pan", r"truck(?:s|ing)?", "tracking"),
    "crane": words(r"cranes?", r"tilts?", "tilting", "jib", r"boom(?:s)?\s+(?:up|down)"),
    "orbit": words("orbit", "orbits", "orbiting", r"arcs?\s+around", r"arc\s+shot"),
}
# A camera that does not move, as the camera field says it ("static", "tripod") and as any
# field says it in words that can only mean the camera ("locked-off", "the camera holds still").
STATIC_CAMERA = words(
    r"static(?:\s+(?:camera|shot|frame|framing))?",
    r"locked(?:-|\s+)off(?:\s+(?:camera|shot))?",
    r"lock-off(?:\s+shot)?",
    r"(?:on\s+an?\s+)?tripod(?:\s+shot)?",
    r"(?:still|fixed|stationary|motionless|unmoving)\s+(?:camera|shot|frame)",
    r"(?:the\s+)?camera\s+(?:holds|stays|remains|is)\s+(?:perfectly\s+)?(?:still|static|fixed)",
)
STATIC_CUE = words(
    r"static\s+(?:camera|shot|frame|framing)",
    r"static\s+(?:wide|medium|close-?up|establishing)(?:\s+shot)?",
    r"locked(?:-|\s+)off(?:\s+shot)?",
    r"lock-off(?:\s+shot)?",
    r"tripod(?:\s+shot)?",
    r"(?:still|fixed|stationary|motionless|unmoving)\s+camera",
    r"camera\s+(?:holds|stays|remains|is)\s+(?:perfectly\s+)?(?:still|static|fixed)",
)
# A zoom is the lens, not the camera: a locked-off camera can zoom.
ZOOM = words(r"zoom(?:s|ing)?\s+(?:in|out)")
ON_SCREEN_TEXT = words(
    r"text\s+(?:that\s+)?(?:says|saying|reads|reading)",
    r"signs?\s+(?:that\s+)?(?:says|reads|reading|saying)",
    r"the\s+words",
    r"captions?",
    r"subtitles?",
    r"title\s+cards?",
    r"logos?",
    "lettering",
    "typography",
    r"headlines?",
    r"banner\s+(?:that\s+)?(?:reads|reading|saying|says)",
    r"written\s+on",
    r"printed\s+(?:on|with)",
    r"labels?\s+(?:that\s+)?(?:reads|reading|saying|says)",
    r"with\s+(?:the\s+)?text",
    r"neon\s+sign",
    "writing",
    "watermark",
    "brand name",
)
WEAK_SPOTS: list[tuple[re.Pattern, str]] = [
    (
        words(
            "hands",
            "hand",
            "fingers",
            "fingertips",
            "typing",
            r"playing\s+(?:the\s+)?piano",
            "knitting",
            "handshake",
        ),
        "Hands in close view are a known weak spot: keep them moving, partly hidden or soft.",
    ),
    (
        words(
            r"(?:three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|\d{1,4})\s+(?:\w+\s+)?\w+s"
        ),
        "Exact counts are unreliable: expect roughly that many, or show fewer.",
    ),
    (
        words(
            "crowd",
            "crowds",
            "crowded",
            r"hundreds\s+of",
            r"dozens\s+of",
            r"thousands\s+of",
            "packed",
            "stadium",
            r"busy\s+(?:market|street|station)",
        ),
        "Crowds smear and repeat faces: keep people in the background or few.",
    ),
    (
        words(
            "juggling",
            "juggles",
            "pouring",
            "pours",
            "shatters",
            "shattering",
            "collides",
            "collision",
            "dominoes",
            "billiards",
            "ricochets",
            "bouncing balls",
            "explodes",
        ),
        "Fast, complex physics with many objects goes wrong often: slow it down or simplify.",
    ),
]
SPEECH = words(
    "says",
    "said",
    "saying",
    "whispers",
    "whispered",
    "whispering",
    "shouts",
    "shouting",
    "shouted",
    "yells",
    "yelling",
    "asks",
    "asking",
    "tells",
    "replies",
    "mutters",
    "muttering",
    "exclaims",
    "sings",
    "singing",
    "announces",
    "speaks",
)
QUOTES = re.compile(r"[\"“”‘’«»]|(?<!\w)'|'(?!\w)")
SPEAKER = re.compile(r"^([^:\"“]{1,60}):\s*(.+)$")
CLAUSES = re.compile(
    r"\s*(?:;|,\s*and\s+then\s+|,\s*then\s+|\band\s+then\s+|\bthen\s+|,\s*and\s+|,|\s+while\s+)\s*",
    re.IGNORECASE,
)
SENTENCES = re.compile(r"(?<=[.;!?])\s+|,\s*")


def lint(shot: Shot, *, max_chars: int, model_label: str = "This model") -> list[Finding]:
    """Every finding for a shot, errors first."""
    findings = [*_over_limit(shot, max_chars, model_label), *_length(shot)]
    with_camera = lambda _, fixed: _no_camera(replace(shot, camera=fixed))  # noqa: E731
    findings += [_offered(finding, shot.camera, with_camera) for finding in _no_camera(shot)]
    with_field = lambda field, fixed: _static_and_moving(replace(shot, **{field: fixed}))  # noqa: E731
    findings += [
        _offered(finding, getattr(shot, finding.field), with_field)
        for finding in _static_and_moving(shot)
    ]
    for field in (*DESCRIBING, "dialogue"):
        if not (text := getattr(shot, field)):
            continue
        for rule, where in FIELD_RULES:
            if field in where:
                findings += [_offered(finding, text, rule) for finding in rule(field, text)]
    order = {ERROR: 0, WARNING: 1, INFO: 2}
    return sorted(findings, key=lambda f: order[f.severity])


Rule = Callable[[str, str], list[Finding]]  # (field, its text) -> findings


def _offered(finding: Finding, text: str, rule: Rule) -> Finding:
    """The finding, with its suggestion only if the rule it answers is quiet on the fixed text."""
    fixed = finding.suggestion
    if fixed is None:
        return finding
    if fixed and fixed != text and all(f.rule != finding.rule for f in rule(finding.field, fixed)):
        return finding
    return replace(finding, suggestion=None)


def blocking(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.severity == ERROR]


# --- the rules --------------------------------------------------------------------------------


def _over_limit(shot: Shot, max_chars: int, model_label: str) -> list[Finding]:
    length = len(compose(shot))
    if length <= max_chars:
        return []
    lengths = {name: len(value) for name, value in shot.as_dict().items()}
    longest = max(lengths, key=lengths.__getitem__)
    return [
        Finding(
            "over-limit",
            ERROR,
            longest,
            f"The composed prompt is {length:,} characters; {model_label} takes at most "
            f"{max_chars:,}. Cut {length - max_chars:,} (the longest field is {LABELS[longest]}).",
        )
    ]


def _length(shot: Shot) -> list[Finding]:
    count = shot_words(shot)
    if count == 0:
        return []
    if count < SHORT:
        return [
            Finding(
                "too-short",
                WARNING,
                None,
                f"{count} words: prompts under {SHORT} read generic. Add what the camera "
                "sees and hears: setting, light, texture, sound (aim for 50–100).",
            )
        ]
    if count > LONG:
        return [
            Finding(
                "too-long",
                WARNING,
                None,
                f"{count} words: past {LONG}, models start ignoring parts. Cut to about "
                "100, or split the shot into cards.",
            )
        ]
    return []


def _no_camera(shot: Shot) -> list[Finding]:
    if shot.is_empty or any(CAMERA_WORDS.search(getattr(shot, f)) for f in DESCRIBING):
        return []
    suggestion = f"medium shot, {shot.camera}" if shot.camera else "medium shot, slow push-in"
    return [
        Finding(
            "no-camera",
            WARNING,
            "camera",
            "No framing or camera move anywhere: the model will pick one at random, often "
            "jarring. Say the shot size and the move (dolly in, pan left, static…).",
            suggestion,
        )
    ]


def _static_and_moving(shot: Shot) -> list[Finding]:
    """A camera said to stay still in one place and to move in another: the model picks one
    at random, or jitters between them."""
    statics = {f: _static_words(f, getattr(shot, f)) for f in DESCRIBING}
    moves = {f: _camera_moves(f, getattr(shot, f)) for f in DESCRIBING}
    still_in = [f for f in DESCRIBING if statics[f]]
    moving_in = [f for f in DESCRIBING if moves[f]]
    if not still_in or not moving_in:
        return []
    field = "camera" if "camera" in still_in else still_in[0]
    moving = "camera" if "camera" in moving_in else moving_in[0]
    still = ", ".join(f"“{words}”" for words in dict.fromkeys(statics[field]))
    move = moves[moving][0]
    where = "" if moving == field else f" in {LABELS[moving]}"
    return [
        Finding(
            "static-moving",
            WARNING,
            field,
            f"{still} and “{move}”{where} contradict: a static camera does not move. "
            f"Keep one: drop {still} to keep the move, or drop “{move}” for a locked-off shot.",
            _without_static(field, getattr(shot, field)),
        )
    ]


def _static_words(field: str, text: str) -> list[str]:
    pattern = STATIC_CAMERA if field == "camera" else STATIC_CUE
    return [m.group(0) for m in pattern.finditer(text)]


def _camera_moves(field: str, text: str) -> list[str]:
    """The camera moves in a field; outside the camera field only in a sentence about the
    camera ("a crane lifts a truck" is neither a crane nor a truck move)."""
    if field == "camera":
        sentences = [text]
    else:
        sentences = [s for s in SENTENCE_ENDS.split(text) if s and CAMERA_CUE.search(s)]
    return [
        m.group(0)
        for sentence in sentences
        for pattern in MOVES.values()
        for m in pattern.finditer(sentence)
        if not ZOOM.fullmatch(m.group(0))
    ]


def _without_static(field: str, text: str) -> str:
    pattern = STATIC_CAMERA if field == "camera" else STATIC_CUE
    for _ in range(3):  # "still static camera camera" leaves "still camera"
        text, removed = pattern.subn("", text)
        text = _clean(text)
        if not removed:
            break
    return text


def _vague(field: str, text: str) -> list[Finding]:
    found = list(dict.fromkeys(m.group(0).lower() for m in VAGUE.finditer(text)))
    if not found:
        return []
    quoted = ", ".join(f"“{w}”" for w in found)
    return [
        Finding(
            "vague",
            WARNING,
            field,
            f"{quoted} praise without showing. Say what makes it so: colour, light, "
            "texture, scale (e.g. “amber backlight, long shadows”).",
            _without_praise(text),
        )
    ]


def _without_praise(text: str) -> str | None:
    """The text with its praise removed, if what is left still shows something."""
    for _ in range(3):  # removing "nice" from "high nice quality" leaves "high quality"
        text, removed = VAGUE_WITH_COMMA.subn("", text)
        text = _clean(text)
        if not removed:
            break
    return text if re.search(r"\w", NOTHING_SHOWN.sub("", text)) else None


def _negative(field: str, text: str) -> list[Finding]:
    matches = [m.group(0) for m in NEGATIVE.finditer(text)]
    if not matches:
        return []
    suggestion = text
    for pattern, positive in REFRAMES:
        suggestion = pattern.sub(positive, suggestion)
    # Half a reframing still asks for what it negates: "no cars" left in it is read as "cars".
    reframed = suggestion != text and not NEGATIVE.search(suggestion)
    quoted = ", ".join(f"“{m}”" for m in dict.fromkeys(matches))
    hint = "" if reframed else " (say what is there instead: “empty street”, not “no people”)"
    return [
        Finding(
            "negative",
            WARNING,
            field,
            f"{quoted}: models read negatives as requests. Describe what is there{hint}.",
            _clean(suggestion) if reframed else None,
        )
    ]


def _crowded(field: str, text: str) -> list[Finding]:
    if field == "prompt":
        return _crowded_prompt(text)
    if field == "camera":
        moves = _moves(text)
        if len(moves) < 2:
            return []
        what = f"{len(moves)} camera moves ({', '.join(moves)})"
        first = _first_move(text)
    else:
        parts = [p for p in CLAUSES.split(text) if p and p.strip()]
        count = _actions(parts) if field == "motion" else _subjects(parts)
        if count < 3:
            return []
        what = f"{count} {'actions' if field == 'motion' else 'subjects'}"
        first = CLAUSES.split(text)[0]
        if field == "subject":
            first = SUBJECT_STARTS.split(first)[0]
    return [
        Finding(
            "crowded",
            WARNING,
            field,
            f"{what} in one shot: models blend them or drop some. Keep one here and "
            "split the rest into cards of their own.",
            first.strip() or None,
        )
    ]


def _crowded_prompt(text: str) -> list[Finding]:
    """The free prompt crowds a shot the same ways, in prose: subjects that each do something,
    camera moves chained in one sentence. What to cut is the creator's call: no suggestion."""
    sentences = [s for s in SENTENCE_ENDS.split(text) if s]
    acting = sum(
        _acting(part)
        for sentence in sentences
        for clause in CLAUSES.split(sentence)
        if clause
        for part in SUBJECT_STARTS.split(clause)
    )
    moves = max((_moves(s) for s in sentences if CAMERA_CUE.search(s)), key=len, default=[])
    crowds = []
    if acting >= 3:
        crowds.append(f"{acting} subjects each doing something")
    if len(moves) >= 2:
        crowds.append(f"{len(moves)} camera moves ({', '.join(moves)}) in one sentence")
    if not crowds:
        return []
    return [
        Finding(
            "crowded",
            WARNING,
            "prompt",
            f"{' and '.join(crowds)}: models blend them or drop some. Keep one here and "
            "split the rest into cards of their own.",
        )
    ]


POSSESSIVE = r"his|her|their|its|my|our"
# A subject starts with one of these ("a woman, red coat, short hair" is one subject).
DETERMINER = re.compile(
    rf"^(?:an?|the|two|three|four|five|six|some|several|{POSSESSIVE}|one)\b", re.IGNORECASE
)
INNER_SUBJECT = re.compile(rf"\band\s+(?:an?|the|{POSSESSIVE})\b", re.IGNORECASE)
# Where "a cat and a dog" splits, keeping the second subject's determiner.
SUBJECT_STARTS = re.compile(rf"\band\s+(?=(?:an?|the|{POSSESSIVE})\b)", re.IGNORECASE)
MANNER = re.compile(r"^(?:(?:\w+ly|very|so|in|slow|fast|real|time|motion|with|care)\b\s*)+$", re.I)
SENTENCE_ENDS = re.compile(r"(?<=[.!?])\s+")
# In the free prompt a move counts only in a sentence about the camera: "a crane lifts a
# truck" is not a crane and a truck move.
CAMERA_CUE = words(
    "camera",
    r"dolly(?:-|\s+)(?:in|out|left|right|back)",
    r"push(?:es)?(?:-|\s+)in",
    r"pull(?:s)?(?:-|\s+)(?:back|out)",
    r"zoom(?:s|ing)?\s+(?:in|out)",
    r"whip\s+pan",
    r"pans?\s+(?:left|right|across|up|down)",
    r"tilts?\s+(?:up|down)",
    r"cranes?\s+(?:up|down)",
    r"truck(?:s|ing)?\s+(?:left|right)",
    r"(?:tracking|arc|crane)\s+shot",
)
# Words after which the next word is an object, so the one before it acts on something.
OBJECT_STARTS = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "his", "her", "their", "its", "my", "our",
    "it", "him", "them",
})  # fmt: skip
# Words after which an intransitive verb goes somewhere: "a gull swoops down".
HEADINGS = frozenset({
    "into", "onto", "across", "through", "toward", "towards", "past", "over", "around", "up",
    "down", "away", "off", "along", "out",
})  # fmt: skip
NOT_VERBS = OBJECT_STARTS | {
    "in", "on", "at", "of", "with", "by", "for", "from", "under", "near", "beside", "behind",
    "above", "below", "between", "among", "inside", "outside", "like", "as", "and", "or", "but",
    "than", "to", "about", "without", "within", "beneath", "amid", "after", "before", "during",
    "while", "where", "when", "who", "which", "is", "are", "was", "were",
}  # fmt: skip


def _moves(text: str) -> list[str]:
    return [name for name, pattern in MOVES.items() if pattern.search(text)]


def _subjects(parts: list[str]) -> int:
    return sum(bool(DETERMINER.match(p.strip())) + len(INNER_SUBJECT.findall(p)) for p in parts)


def _actions(parts: list[str]) -> int:
    """Clauses that do something: "slowly, in slow motion" describe how, not what."""
    return sum(not MANNER.match(p.strip()) for p in parts)


def _acting(clause: str) -> bool:
    """A subject doing something: "a dog chases a ball", "the gull swoops down", "a man is
    running". A subject described ("a woman in a red coat", "the city lights") is not."""
    tokens = re.findall(r"[\w'’-]+", clause.lower())
    if not tokens or not DETERMINER.match(tokens[0]):
        return False
    for verb, after in zip(tokens[2:6], tokens[3:7], strict=False):
        if verb in ("is", "are") and after.endswith("ing"):
            return True
        if verb in NOT_VERBS:
            continue
        if after in OBJECT_STARTS:
            return True
        if verb.endswith(("s", "ing")) and (after in HEADINGS or after.endswith("ly")):
            return True
    return False


def _first_move(text: str) -> str:
    parts = re.split(r",|\bthen\b|\band\b|\bwhile\b|;", text, flags=re.IGNORECASE)
    return next((part for part in parts if _moves(part)), "")


def _on_screen_text(field: str, text: str) -> list[Finding]:
    if not ON_SCREEN_TEXT.search(text):
        return []
    kept = [part for part in SENTENCES.split(text) if part and not ON_SCREEN_TEXT.search(part)]
    return [
        Finding(
            "on-screen-text",
            WARNING,
            field,
            "Readable text, signs and logos come out garbled: keep the surface clean "
            "here and add the words in post.",
            _clean(", ".join(kept)) or None,
        )
    ]


def _weak_spots(field: str, text: str) -> list[Finding]:
    return [
        Finding("weak-spot", INFO, field, message)
        for pattern, message in WEAK_SPOTS
        if pattern.search(text)
    ]


def _speech_in_prose(field: str, text: str) -> list[Finding]:
    # A sign that "says" something is on-screen text, not speech.
    if not SPEECH.search(text) or QUOTES.search(text) or ON_SCREEN_TEXT.search(text):
        return []
    return [
        Finding(
            "dialogue-unquoted",
            WARNING,
            field,
            "Spoken words belong in the Dialogue field, in quotes, with how they are "
            "said: Mara (whispering, leaning in): “We're late.”",
        )
    ]


def _dialogue_unquoted(field: str, dialogue: str) -> list[Finding]:
    lines = [line.strip() for line in dialogue.splitlines() if line.strip()]
    if not lines or all(QUOTES.search(line) for line in lines):
        return []
    fixed = "\n".join(line if QUOTES.search(line) else _quoted(line) for line in lines)
    return [
        Finding(
            "dialogue-unquoted",
            WARNING,
            field,
            "Put the spoken words in quotes, after who says them and how: "
            "Mara (whispering): “We're late.”",
            fixed,
        )
    ]


# Each rule over one field's text, and the fields it reads.
FIELD_RULES: list[tuple[Rule, tuple[str, ...]]] = [
    (_vague, DESCRIBING),
    (_negative, DESCRIBING),
    (_on_screen_text, DESCRIBING),
    (_weak_spots, DESCRIBING),
    (_crowded, ("subject", "motion", "camera", "prompt")),
    (_speech_in_prose, ("motion", "prompt", "subject")),
    (_dialogue_unquoted, ("dialogue",)),
]


def _quoted(line: str) -> str:
    if match := SPEAKER.match(line):
        return f"{match.group(1).strip()}: “{match.group(2).strip()}”"
    return f"“{line}”"


def _clean(text: str) -> str:
    """Tidy what a removal leaves behind: doubled spaces and commas, stray punctuation."""
    text = re.sub(r"\s+([,.;!?])", r"\1", text)
    text = re.sub(r"([,;])(?:\s*[,;])+", r"\1", text)
    text = re.sub(r"^[\s,;]+|[\s,;]+$", "", tidy(text))
    return text
