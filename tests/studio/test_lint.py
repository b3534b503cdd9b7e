"""Prompt lint: each rule with its id, severity, field and suggestion; no input breaks it."""

import json
import time

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.lint import ERROR, INFO, LABELS, WARNING, lint
from studio.prompts import Shot

GOOD = Shot(
    subject="an elderly woman in a green cardigan reading a worn paperback by the window",
    motion="turns a page slowly, then pauses and smiles",
    camera="slow push-in from a medium shot to a close-up at eye level",
    lighting="soft afternoon window light with warm dust in the air",
    atmosphere="peaceful and nostalgic, 35mm film grain, muted greens and browns",
    dialogue="Nan (whispering, not looking up): “Not yet.”",
    audio="pages turning, a clock ticking, distant birdsong",
)


def rules(shot: Shot, max_chars=4000) -> dict[str, list]:
    found: dict[str, list] = {}
    for finding in lint(shot, max_chars=max_chars):
        found.setdefault(finding.rule, []).append(finding)
    return found


def test_a_well_written_shot_has_no_warnings():
    assert [f for f in lint(GOOD, max_chars=4000) if f.severity != INFO] == []


def test_over_limit_is_an_error_on_the_longest_field():
    found = rules(Shot(subject="x", prompt="y " * 600), max_chars=1000)["over-limit"]
    assert found[0].severity == ERROR and found[0].field == "prompt"
    assert "takes at most 1,000" in found[0].message


@pytest.mark.parametrize(("text", "rule"), [("a cat", "too-short"), ("word " * 151, "too-long")])
def test_length_rules(text, rule):
    finding = rules(Shot(subject=text, camera="static wide shot"))[rule][0]
    assert finding.severity == WARNING and finding.field is None


def test_vague_praise_is_flagged_and_removed_by_the_suggestion():
    finding = rules(Shot(subject="a stunning, epic sunset over the bay", camera="static"))["vague"][
        0
    ]
    assert (finding.field, finding.severity) == ("subject", WARNING)
    assert "“stunning”, “epic”" in finding.message
    assert finding.suggestion == "a sunset over the bay"


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("a street at dawn, no people in the background", "a street at dawn, empty of people"),
        ("a street with no people", "a street empty of people"),
        ("a fox in the snow, not cartoon", "a fox in the snow, photorealistic live-action footage"),
        ("a portrait, no blur", "a portrait, sharp focus"),
        ("a portrait shot without blur", "a portrait shot in sharp focus"),
        ("a harbour without people", "a harbour empty of people"),
        ("a tripod shot with no camera shake", "a tripod shot with a locked-off, static camera"),
        ("a meadow under a sky with no clouds", "a meadow under a clear, cloudless sky"),
        ("the guards don't move", "the guards stay perfectly still"),
    ],
)
def test_negatives_get_a_positive_reframing(text, suggestion):
    finding = rules(Shot(subject=text, camera="static"))["negative"][0]
    assert finding.field == "subject" and finding.suggestion == suggestion


def test_a_negative_without_a_known_reframing_explains_instead():
    finding = rules(Shot(subject="a kitchen, don't show the oven", camera="static"))["negative"][0]
    assert finding.suggestion is None and "say what is there instead" in finding.message


def test_no_camera_anywhere_suggests_a_framing():
    finding = rules(Shot(subject="a lighthouse on a cliff", lighting="dusk"))["no-camera"][0]
    assert finding.field == "camera" and finding.suggestion == "medium shot, slow push-in"
    assert "no-camera" not in rules(Shot(subject="an aerial view of a lighthouse"))


@pytest.mark.parametrize(
    ("shot", "field"),
    [
        (Shot(motion="she runs, jumps the fence, rolls, then waves"), "motion"),
        (Shot(camera="pan left then crane up and push in"), "camera"),
        (Shot(subject="a cat, a dog, a parrot and a goat"), "subject"),
    ],
)
def test_crowded_shots_suggest_keeping_the_first_thing(shot, field):
    finding = rules(shot)["crowded"][0]
    assert finding.field == field and "split the rest into cards" in finding.message
    assert finding.suggestion in ("she runs", "pan left", "a cat")


@pytest.mark.parametrize(
    "shot",
    [
        Shot(motion="turns a page, adjusts her glasses"),
        Shot(motion="walks slowly, gently, in slow motion"),  # how, not what
        Shot(subject="a tall woman, red coat, short silver hair, freckles"),  # one person
        Shot(subject="an old fisherman, weathered hands, a pipe"),
    ],
)
def test_one_thing_described_in_detail_is_not_crowded(shot):
    assert "crowded" not in rules(shot)


def test_a_nobody_is_flagged_without_a_clumsy_rewrite():
    finding = rules(Shot(subject="a plaza where nobody walks", camera="static"))["negative"][0]
    assert "“nobody”" in finding.message and finding.suggestion is None


def test_on_screen_text_goes_to_post():
    finding = rules(
        Shot(subject="a cafe front, a neon sign reading OPEN, rain on the glass", camera="static")
    )["on-screen-text"][0]
    assert finding.suggestion == "a cafe front, rain on the glass"
    assert "dialogue-unquoted" not in rules(Shot(prompt="a sign that says WELCOME"))


@pytest.mark.parametrize(
    "text", ["close-up of hands knitting", "five red balloons", "a cheering crowd", "juggling"]
)
def test_weak_spots_are_information(text):
    finding = rules(Shot(subject=text, camera="static"))["weak-spot"][0]
    assert finding.severity == INFO and finding.suggestion is None


def test_unquoted_dialogue_is_quoted_after_the_speaker():
    finding = rules(Shot(subject="x", dialogue="Mara (whispering): we're late\nJon: “Go.”"))[
        "dialogue-unquoted"
    ][0]
    assert finding.suggestion == "Mara (whispering): “we're late”\nJon: “Go.”"
    prose = rules(Shot(motion="she whispers that they are late"))["dialogue-unquoted"][0]
    assert prose.field == "motion"


def test_the_cli_prints_json_and_exits_by_severity(db, capsys):
    call_command("lint_prompt", "--subject", "a stunning castle", "--json")
    printed = json.loads(capsys.readouterr().out)
    assert {"rule", "severity", "field", "message", "suggestion"} == set(printed[0])
    assert "vague" in {item["rule"] for item in printed}
    with pytest.raises(SystemExit) as exit_info:
        call_command("lint_prompt", "--prompt", "x" * 4100)
    assert exit_info.value.code == 1 and "over-limit" in capsys.readouterr().out


text = st.text(st.characters(codec="utf-8"), max_size=4000)
shots = st.builds(Shot, **dict.fromkeys(LABELS, text))


@settings(max_examples=300, deadline=None)
@given(shots)
def test_no_input_crashes_the_linter_or_makes_it_slow(shot):
    started = time.perf_counter()
    findings = lint(shot, max_chars=4000)
    assert time.perf_counter() - started < 0.05
    for finding in findings:
        assert finding.severity in (ERROR, WARNING, INFO)
        assert finding.field is None or finding.field in LABELS
        assert finding.message
        assert finding.suggestion is None or finding.suggestion != getattr(shot, finding.field)


words = st.lists(
    st.sampled_from(
        [
            "no",
            "not",
            "beautiful",
            "sign",
            "reads",
            "says",
            "then",
            "and",
            ",",
            "pan",
            "crane",
            "hands",
            "5",
            "cats",
            "'",
            "“",
            "a",
            "x" * 40,
        ]
    ),
    max_size=600,
).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(st.builds(Shot, subject=words, motion=words, camera=words, prompt=words, dialogue=words))
def test_adversarial_word_soup_stays_fast(shot):
    started = time.perf_counter()
    lint(shot, max_chars=4000)
    assert time.perf_counter() - started < 0.05
