"""Prompt lint: each rule with its id, severity, field and suggestion; no input breaks it."""

import json
import time
from dataclasses import replace

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


NEGATIVES = [
    ("a street at dawn, no people in the background", "a street at dawn, empty of people"),
    ("a street with no people", "a street empty of people"),
    ("a fox in the snow, not cartoon", "a fox in the snow, photorealistic live-action footage"),
    ("a portrait, no blur", "a portrait, sharp focus"),
    ("a portrait shot without blur", "a portrait shot in sharp focus"),
    ("a harbour without people", "a harbour empty of people"),
    ("a tripod shot with no camera shake", "a tripod shot with a steady, smooth camera"),
    ("a meadow under a sky with no clouds", "a meadow under a clear, cloudless sky"),
    ("the guards don't move", "the guards stay perfectly still"),
]


@pytest.mark.parametrize(("text", "suggestion"), NEGATIVES)
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


STATIC_AND_MOVING = [
    (Shot(camera="static camera", motion="the camera pans left across the cliffs"), "pans"),
    (Shot(camera="locked-off wide shot", prompt="The camera cranes up over the roofs."), "cranes"),
    (Shot(camera="tripod shot", motion="she turns as the camera pushes in"), "pushes in"),
    (Shot(camera="static wide shot, slow dolly in"), "dolly in"),
    (Shot(camera="tripod shot", motion="the camera dollies in on the door"), "dollies in"),
    (Shot(camera="dolly in on her face", prompt="A locked-off shot of a harbour."), "dolly in"),
]
STILL_OR_ZOOMING = [
    Shot(camera="static wide shot", motion="a crane lifts a truck onto the quay"),
    Shot(camera="locked-off, slow zoom in on the window"),
    Shot(camera="slow dolly in", atmosphere="the hiss of TV static"),
    Shot(camera="static", subject="a statue on a tripod-shaped plinth"),
]


@pytest.mark.parametrize(("shot", "move"), STATIC_AND_MOVING)
def test_a_static_camera_that_also_moves_is_a_contradiction(shot, move):
    (finding,) = rules(shot)["static-moving"]
    assert finding.severity == WARNING and move in finding.message
    assert "contradict" in finding.message
    assert finding.field == ("prompt" if "dolly in on" in shot.camera else "camera")


def test_the_fix_drops_the_static_words_and_keeps_the_move():
    (finding,) = rules(Shot(camera="static wide shot, slow dolly in"))["static-moving"]
    assert finding.suggestion == "wide shot, slow dolly in"
    fixed = rules(Shot(camera="locked-off, medium shot", motion="the camera pans left"))
    assert fixed["static-moving"][0].suggestion == "medium shot"


def test_every_static_phrase_is_named_so_dropping_them_all_keeps_the_move():
    shot = Shot(camera="static camera, locked-off", motion="the camera dollies in slowly")
    (finding,) = rules(shot)["static-moving"]
    assert "drop “static camera”, “locked-off” to keep the move" in finding.message


def test_a_moving_shot_asked_not_to_shake_is_not_made_static_by_the_fix():
    (finding,) = rules(Shot(camera="slow dolly in, no camera shake"))["negative"]
    assert finding.suggestion == "slow dolly in, a steady, smooth camera"
    assert "static-moving" not in rules(Shot(camera=finding.suggestion))


@pytest.mark.parametrize("shot", STILL_OR_ZOOMING)
def test_a_static_camera_with_no_camera_move_is_no_contradiction(shot):
    assert "static-moving" not in rules(shot)


CROWDED = [
    (Shot(motion="she runs, jumps the fence, rolls, then waves"), "she runs"),
    (Shot(camera="pan left then crane up and push in"), "pan left"),
    (Shot(camera="slowly, pan left while the camera cranes up"), "pan left"),
    (Shot(subject="a cat, a dog, a parrot and a goat"), "a cat"),
    (Shot(subject="a cat and a dog and a parrot"), "a cat"),
]
ONE_THING = [
    Shot(motion="turns a page, adjusts her glasses"),
    Shot(motion="walks slowly, gently, in slow motion"),  # how, not what
    Shot(subject="a tall woman, red coat, short silver hair, freckles"),  # one person
    Shot(subject="an old fisherman, weathered hands, a pipe"),
]
CROWDED_PROMPTS = [
    "A dog chases a ball, a cat climbs a tree and a parrot squawks loudly on a perch.",
    "Two boys kick a ball while their sister rides a bike and the dog runs across the yard.",
    "The camera pans left, then cranes up and pushes in on the door.",
    "Slow dolly in, then whip pan to the window and crane up over the rooftops.",
]
CALM_PROMPTS = [
    "A lighthouse keeper climbs the spiral stairs at dusk, the sea crashing below, a storm "
    "gathering on the horizon, slow push-in.",
    "A construction crane lifts a truck over the harbour. Wide shot, the camera pans slowly "
    "across the docks.",
    "A woman in a red coat, the city lights, the wet streets of Tokyo, neon reflections in "
    "puddles, a man with an umbrella, static wide shot.",
    "Keep the window frame in the left third and her face in soft focus until the end of the "
    "move, when the page she reads catches the light.",
    ". ".join(getattr(GOOD, field) for field in ("subject", "motion", "camera", "lighting")),
]


@pytest.mark.parametrize(("shot", "kept"), CROWDED)
def test_crowded_shots_suggest_keeping_the_first_thing(shot, kept):
    finding = rules(shot)["crowded"][0]
    assert getattr(shot, finding.field) and "split the rest into cards" in finding.message
    assert finding.suggestion == kept


@pytest.mark.parametrize("shot", ONE_THING)
def test_one_thing_described_in_detail_is_not_crowded(shot):
    assert "crowded" not in rules(shot)


@pytest.mark.parametrize("text", CROWDED_PROMPTS)
def test_a_free_prompt_crowded_in_prose_is_caught_without_a_guessed_cut(text):
    finding = rules(Shot(prompt=text))["crowded"][0]
    assert finding.field == "prompt" and "split the rest into cards" in finding.message
    assert finding.suggestion is None


@pytest.mark.parametrize(
    ("smcla", "prompt"),
    [
        (
            Shot(camera="pan left then crane up and push in"),
            "The camera pans left then cranes up and pushes in.",
        ),
        (
            Shot(subject="a dog, a cat and a parrot", motion="chases, climbs, squawks"),
            "A dog chases a ball, a cat climbs a tree and a parrot squawks loudly.",
        ),
    ],
)
def test_the_same_crowd_is_caught_in_the_fields_and_in_the_free_prompt(smcla, prompt):
    assert "crowded" in rules(smcla) and "crowded" in rules(Shot(prompt=prompt))


@pytest.mark.parametrize("text", CALM_PROMPTS)
def test_a_free_prompt_with_one_subject_and_one_move_is_not_crowded(text):
    assert "crowded" not in rules(Shot(prompt=text))


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
def test_no_input_crashes_the_linter(shot):
    # Speed is bench/lint_speed.py's job; catastrophic backtracking is the word-soup test's.
    findings = lint(shot, max_chars=4000)
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
    # A guard against catastrophic regex backtracking (which takes minutes), not a timing:
    # lint's speed is measured by bench/lint_speed.py. Roomy enough for a busy machine.
    started = time.perf_counter()
    lint(shot, max_chars=4000)
    assert time.perf_counter() - started < 2.0


# --- one-click fixes: a fix passes the rule it answers, or is not offered ----------------------

CORPUS = [
    GOOD,
    Shot(subject="a stunning, epic sunset over the bay", camera="static"),
    Shot(subject="a lighthouse on a cliff", lighting="dusk"),
    Shot(subject="a kitchen, don't show the oven", camera="static"),
    Shot(subject="a plaza where nobody walks", camera="static"),
    Shot(subject="a cafe front, a neon sign reading OPEN, rain on the glass", camera="static"),
    Shot(subject="x", dialogue="Mara (whispering): we're late\nJon: “Go.”"),
    Shot(lighting="nice lighting", camera="static wide shot"),
    Shot(subject="a high nice quality photo of a cat", camera="static"),
    Shot(subject="a street with no people and no cars, don't show the sign", camera="static"),
    Shot(subject="a room without windows, no blur", camera="static"),
    *(Shot(subject=text, camera="static") for text, _ in NEGATIVES),
    *(shot for shot, _ in CROWDED),
    *(shot for shot, _ in STATIC_AND_MOVING),
    *ONE_THING,
    *(Shot(prompt=text) for text in CROWDED_PROMPTS + CALM_PROMPTS),
]


def assert_every_fix_quiets_its_rule(shot: Shot):
    for finding in lint(shot, max_chars=4000):
        if finding.suggestion is None:
            continue
        assert finding.suggestion.strip() and finding.suggestion != getattr(shot, finding.field)
        fixed = replace(shot, **{finding.field: finding.suggestion})
        again = [(f.rule, f.field) for f in lint(fixed, max_chars=4000)]
        assert (finding.rule, finding.field) not in again, (finding, fixed)


@pytest.mark.parametrize("shot", CORPUS)
def test_every_fix_in_the_corpus_quiets_the_rule_it_answers(shot):
    assert_every_fix_quiets_its_rule(shot)


@pytest.mark.parametrize(
    ("shot", "rule"),
    [
        (Shot(lighting="nice lighting", camera="static"), "vague"),  # only the field's name left
        (Shot(subject="stunning, 8k, award-winning", camera="static"), "vague"),  # nothing left
        (Shot(subject="a street with no people and no cars", camera="static"), "negative"),
        (Shot(subject="no people, don't show the sign", camera="static"), "negative"),
        (Shot(subject="a harbour without people, without boats", camera="static"), "negative"),
        (Shot(camera="a slow orbit into a push-in"), "crowded"),  # no clause holds one move
    ],
)
def test_a_fix_that_would_not_fix_is_not_offered(shot, rule):
    finding = rules(shot)[rule][0]
    assert finding.suggestion is None


def test_a_half_reframed_negative_explains_instead():
    finding = rules(Shot(subject="a street with no people and no cars", camera="static"))[
        "negative"
    ][0]
    assert "say what is there instead" in finding.message


def test_praise_hidden_inside_praise_is_removed_whole():
    finding = rules(Shot(subject="a high nice quality photo of a cat", camera="static"))["vague"]
    assert finding[0].suggestion == "a photo of a cat"


PHRASES = [
    *(text for text, _ in NEGATIVES),
    *CROWDED_PROMPTS,
    "a woman",
    "a dog chases a ball",
    "and a cat",
    "the camera pans left",
    "crane up",
    "push in",
    "zooming in",
    "no",
    "not",
    "no cars",
    "without",
    "don't",
    "nobody",
    "stunning",
    "nice",
    "high",
    "quality",
    "award",
    "winning",
    "4k",
    "lighting",
    "a neon sign reading OPEN",
    "captions",
    "rain on the glass",
    "hands",
    "five cats",
    "whispers",
    "Mara:",
    "slowly",
    "then",
    "and",
    "while",
    ",",
    ".",
    ";",
    "'",
    "“",
    "-",
]
soup = st.lists(st.sampled_from(PHRASES) | st.text(max_size=8), max_size=30).map(" ".join)
fields_of_soup = st.fixed_dictionaries(
    {}, optional=dict.fromkeys(("subject", "motion", "camera", "lighting", "prompt"), soup)
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CORPUS), fields_of_soup, st.text(st.sampled_from("ab“'\n:"), max_size=20))
def test_every_fix_on_generated_text_quiets_the_rule_it_answers(shot, soup_fields, dialogue):
    assert_every_fix_quiets_its_rule(replace(shot, **soup_fields, dialogue=dialogue))
