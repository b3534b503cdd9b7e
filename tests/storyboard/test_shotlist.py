"""A shot list, pasted or uploaded, becomes cards in one go, or nothing and a reason per line."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from storyboard import shotlist
from storyboard.models import Card

PARAGRAPHS = """A lighthouse on a cliff at dawn, waves below.

Subject: the keeper
Motion: climbs the spiral stairs
Camera: slow push-in
Seconds: 8
"""
MARKDOWN = """- Subject: a gull Motion: dives Camera: tracking shot
- the lamp turns on,
  light sweeping the sea
1. Subject: fog rolls in. Seconds: 12
"""
CSV = """Subject,Motion,Camera,Lighting,Atmosphere,Seconds
keeper,climbs,push-in,dawn,calm,4
"gull, white",dives,tracking,,,8
"""


def test_paragraphs_and_labelled_blocks():
    first, second = shotlist.read(PARAGRAPHS)
    assert first.shot.prompt == "A lighthouse on a cliff at dawn, waves below." and first.line == 1
    assert (second.shot.subject, second.shot.camera, second.seconds) == (
        "the keeper",
        "slow push-in",
        8,
    )
    assert second.line == 3


def test_a_markdown_list_with_continued_items():
    shots = shotlist.read(MARKDOWN)
    assert [s.shot.subject for s in shots] == ["a gull", "", "fog rolls in."]
    assert shots[1].shot.prompt == "the lamp turns on, light sweeping the sea"
    assert shots[2].seconds == 12


def test_csv_with_smcla_columns():
    keeper, gull = shotlist.read(CSV)
    assert keeper.shot.lighting == "dawn" and keeper.seconds == 4
    assert gull.shot.subject == "gull, white" and gull.seconds == 8 and gull.line == 3


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "Line 1: Paste or upload a shot list"),
        ("- a fox\nnot an item\n", "Line 2: not a list item"),
        ("Subject: a\nSeconds: ten\n\nSubject: b", "Line 1: “ten” isn't a length of 1 to 60 s"),
        ("Subject: a\n\nhello Subject: b", "Line 3: “hello” comes before the first label"),
        ("Subject,Motion\na,b,c\n", "Line 2: 3 cells, but the header names 2 columns"),
        ("Subject,Seconds\na,4\n,8\n", "Line 3: no shot here"),
        ("Subject: a Subject: b", "Line 1: Subject is given twice"),
        ("Seconds: 4", "Line 1: no shot here"),
    ],
)
def test_what_cannot_be_read_is_named_by_line(text, problem):
    with pytest.raises(shotlist.ShotListInvalid) as caught:
        shotlist.read(text)
    assert any(str(p).startswith(problem) for p in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(
    "item, text, seconds",
    [
        ("a gull dives, 4 s", "a gull dives", 4),
        ("a gull dives, 4s", "a gull dives", 4),
        ("a gull dives — 4s", "a gull dives", 4),
        ("a gull dives – 6 sec", "a gull dives", 6),
        ("a gull dives - 6 seconds", "a gull dives", 6),
        ("a gull dives (4 s)", "a gull dives", 4),
        ("a gull dives (12s).", "a gull dives", 12),
        ("a gull dives; 8 S", "a gull dives", 8),
        ("a gull dives", "a gull dives", None),
        ("a 4s countdown on the wall", "a 4s countdown on the wall", None),
        ("the clock, 4 o'clock", "the clock, 4 o'clock", None),
    ],
)
def test_a_list_item_ending_in_a_length_sets_the_card_length_not_the_prompt(item, text, seconds):
    (shot,) = shotlist.read(f"- {item}\n")
    assert (shot.shot.prompt, shot.seconds) == (text, seconds)


def test_a_length_after_labels_or_a_continued_item_comes_off_the_last_field():
    gull, lamp = shotlist.read(
        "- Subject: a gull Motion: dives, 4 s\n"
        "- the lamp turns on,\n  light sweeping the sea (6 s)\n"
    )
    assert (gull.shot.subject, gull.shot.motion, gull.seconds) == ("a gull", "dives", 4)
    assert (lamp.shot.prompt, lamp.seconds) == ("the lamp turns on, light sweeping the sea", 6)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("- a gull, 0 s\n", "Line 1: “0 s” isn't a length of 1 to 60 s."),
        ("- a fox\n- a gull — 900 s\n", "Line 2: “900 s” isn't a length of 1 to 60 s."),
        ("- a gull (2.5 s)\n", "Line 1: “2.5 s” isn't a length of 1 to 60 s."),
        ("- Subject: a gull Seconds: 8, 4 s\n", "Line 1: the length is given twice"),
    ],
)
def test_a_nonsensical_trailing_length_is_named_and_nothing_is_kept(text, problem):
    with pytest.raises(shotlist.ShotListInvalid) as caught:
        shotlist.read(text)
    assert [str(p) for p in caught.value.problems if str(p).startswith(problem)], (
        caught.value.problems
    )


def test_a_trailing_length_sets_the_pasted_card_and_a_bad_one_adds_no_card(
    client_for, personas, board, cards
):
    client = client_for(personas["editor"])
    url = reverse("storyboard:import", args=["harbour", board.pk])
    client.post(url, {"text": "- a gull dives, 6 s\n- fog rolls in — 0 s\n"})
    assert board.cards.count() == 3
    client.post(url, {"text": "- a gull dives, 6 s\n- fog rolls in (8 s)\n"})
    assert list(board.cards.values_list("prompt", "seconds"))[3:] == [
        ("a gull dives", 6),
        ("fog rolls in", 8),
    ]


def test_pasted_shots_become_cards_in_order(client_for, personas, board, cards):
    client = client_for(personas["editor"])
    response = client.post(
        reverse("storyboard:import", args=["harbour", board.pk]), {"text": MARKDOWN}
    )
    assert response.status_code == 302
    found = list(board.cards.values_list("subject", "seconds", "position"))
    assert found[3:] == [("a gull", 4, 3), ("", 4, 4), ("fog rolls in.", 12, 5)]


def test_an_uploaded_csv_becomes_cards(client_for, personas, board):
    client = client_for(personas["editor"])
    upload = SimpleUploadedFile("shots.csv", CSV.encode("utf-8-sig"), "text/csv")
    client.post(reverse("storyboard:import", args=["harbour", board.pk]), {"upload": upload})
    assert list(board.cards.values_list("subject", flat=True)) == ["keeper", "gull, white"]


@pytest.mark.parametrize("empty", ["- ", "-", "* ", "2."])
def test_problems_come_in_line_order_and_an_empty_item_is_named_as_one(empty):
    text = f"- a heron takes off, 4 s\n- a boat horn sounds, 999 s\n{empty}"
    with pytest.raises(shotlist.ShotListInvalid) as caught:
        shotlist.read(text)
    assert [str(p) for p in caught.value.problems] == [
        "Line 2: “999 s” isn't a length of 1 to 60 s.",
        f"Line 3: an empty item (write the shot after “{empty.strip()} ”).",
    ]


def test_an_empty_item_pasted_last_adds_nothing_and_is_named(client_for, personas, board):
    client = client_for(personas["editor"])
    text = "- a heron takes off, 4 s\n- a boat horn sounds, 999 s\n- "
    client.post(reverse("storyboard:import", args=["harbour", board.pk]), {"text": text})
    html = client.get(reverse("storyboard:board", args=["harbour", board.pk])).content.decode()
    line2, line3 = html.index("Line 2: “999 s”"), html.index("Line 3: an empty item")
    assert line2 < line3 and "not a list item" not in html
    assert not Card.objects.filter(board=board).exists()


def test_a_list_with_a_bad_line_stores_nothing_and_says_which(client_for, personas, board, cards):
    client = client_for(personas["editor"])
    text = "- Subject: a gull\n- Subject: fog Seconds: 99\ngarbage\n"
    response = client.post(reverse("storyboard:import", args=["harbour", board.pk]), {"text": text})
    # Back on the board's own address, so a refresh can't post the list again.
    board_url = reverse("storyboard:board", args=["harbour", board.pk])
    assert response.status_code == 302 and response["Location"] == board_url + "#shotlist"
    html = client.get(board_url).content.decode()
    assert "Line 2: “99” isn&#x27;t a length" in html and "Line 3: not a list item" in html
    assert "Nothing was added" in html and "fog Seconds: 99" in html  # the list, to fix
    assert Card.objects.filter(board=board).count() == 3
    assert "Nothing was added" not in client.get(board_url).content.decode()  # said once
