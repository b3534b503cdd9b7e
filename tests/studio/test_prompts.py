from studio.prompts import Shot, compose, shot_words, tidy, word_count


def test_compose_labels_each_smcla_field_in_order():
    shot = Shot(
        subject="elderly woman reading a book",
        motion="turns page, adjusts glasses",
        camera="slow push-in from medium to close-up",
        lighting="soft afternoon window light",
        atmosphere="peaceful, nostalgic",
    )
    assert compose(shot) == (
        "Subject: elderly woman reading a book. Motion: turns page, adjusts glasses. "
        "Camera: slow push-in from medium to close-up. Lighting: soft afternoon window light. "
        "Atmosphere: peaceful, nostalgic."
    )


def test_empty_fields_are_left_out_and_free_prompt_dialogue_and_audio_follow():
    shot = Shot(
        subject="a red kite",
        prompt="It dips over the cliff!",
        dialogue='Ana (pointing): "Look up!"\nJon: "Where?"',
        audio="wind gusts, gulls",
    )
    assert compose(shot) == (
        'Subject: a red kite. It dips over the cliff! Dialogue: Ana (pointing): "Look up!" '
        'Jon: "Where?" Audio: wind gusts, gulls.'
    )


def test_dialogue_keeps_one_line_per_speaker():
    shot = Shot.from_mapping({"dialogue": "  Ana:   “Go.”  \n\n Jon:  “Now?” "})
    assert shot.dialogue == "Ana: “Go.”\nJon: “Now?”"


def test_existing_end_punctuation_is_kept():
    assert compose(Shot(subject="Who is there?")) == "Subject: Who is there?"


def test_from_mapping_tidies_whitespace_and_ignores_unknown_keys():
    shot = Shot.from_mapping({"subject": "  a   cat \n on a wall ", "other": "x"})
    assert shot.subject == "a cat on a wall"
    assert shot.motion == ""


def test_empty_shot():
    assert Shot().is_empty
    assert not Shot(dialogue="rain").is_empty
    assert compose(Shot()) == ""


def test_word_count_and_tidy():
    assert word_count("Subject: a dog's day-out, at dusk.") == 6
    assert tidy("\ta\n\nb ") == "a b"


def test_shot_words_counts_what_the_creator_wrote():
    assert shot_words(Shot(subject="a red fox", camera="truck left", dialogue='"Run!"')) == 6


def test_the_shot_field_list_has_one_home():
    from dataclasses import fields

    from studio.prompts import SHOT_FIELDS, SHOT_HINTS, SHOT_LABELS

    assert tuple(f.name for f in fields(Shot)) == SHOT_FIELDS
    assert set(SHOT_HINTS) == set(SHOT_LABELS) == set(SHOT_FIELDS)
