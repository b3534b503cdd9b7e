"""`manage.py board …`: one JSON object, or one line on stderr and exit 2."""

import json

import opentimelineio as otio
import pytest
from django.core.management import call_command

from storyboard import boards
from storyboard.models import Board
from studio.models import Take


def run(capsys, *args):
    try:
        call_command("board", *args)
        code = 0
    except SystemExit as exit:
        code = exit.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_create_from_a_shot_list_add_a_card_and_show_it(capsys, workspace, tmp_path):
    shots = tmp_path / "shots.md"
    shots.write_text("- Subject: a gull Seconds: 8\n- Subject: the lamp\n", encoding="utf-8")
    code, out, err = run(
        capsys,
        "create",
        "--title",
        "Harbour",
        "--from-file",
        str(shots),
        "--workspace",
        "harbour",
        "--json",
    )
    assert code == 0, err
    made = json.loads(out)
    assert len(made["cards"]) == 2
    board = Board.objects.get(pk=made["id"])
    boards.set_style(board, {"lighting": "dawn"})
    code, out, err = run(
        capsys,
        "card-add",
        str(board.pk),
        "--subject",
        "fog",
        "--seconds",
        "4",
        "--position",
        "1",
        "--workspace",
        "harbour",
        "--json",
    )
    assert code == 0 and json.loads(out)["position"] == 1
    code, out, err = run(capsys, "show", str(board.pk), "--workspace", "harbour", "--json")
    shown = json.loads(out)
    assert [c["shot"]["subject"] for c in shown["cards"]] == ["fog", "a gull", "the lamp"]
    assert shown["cards"][0]["shot"]["lighting"] == "dawn" and shown["cards"][0]["inherited"] == [
        "lighting"
    ]
    assert shown["running_time"] == 16 and [c["start"] for c in shown["cards"]] == [0, 4, 12]


def test_quote_render_choose_cut_and_export(capsys, board, cards, finished_take, tmp_path):
    code, out, err = run(capsys, "quote", str(board.pk), "--workspace", "harbour", "--json")
    assert code == 0 and json.loads(out)["total"] == "0.00"
    code, out, err = run(capsys, "render", str(board.pk), "--workspace", "harbour", "--json")
    rendered = json.loads(out)["takes"]
    assert [r["card"] for r in rendered] == [c.pk for c in cards] and {
        r["status"] for r in rendered
    } == {"queued"}
    takes = [finished_take(card, 1, choose=False) for card in cards]
    for card, take in zip(cards, takes, strict=True):
        assert run(capsys, "choose", str(card.pk), str(take.pk), "--workspace", "harbour")[0] == 0
    code, out, err = run(capsys, "cut", str(board.pk), "--workspace", "harbour", "--json")
    assert code == 0, err
    cut = json.loads(out)
    assert (cut["cards"], cut["width"], cut["height"]) == (3, 320, 180) and abs(
        cut["duration"] - 3
    ) < 0.05
    path = tmp_path / "board.otio"
    code, out, err = run(
        capsys,
        "export",
        str(board.pk),
        "--format",
        "otio",
        "--out",
        str(path),
        "--workspace",
        "harbour",
    )
    assert code == 0 and len(list(otio.adapters.read_from_file(str(path)).find_clips())) == 6


def test_export_fcp_xml_or_say_which_cards_are_missing(
    capsys, board, cards, finished_take, tmp_path
):
    path = tmp_path / "board.xml"
    args = ["export", str(board.pk), "--format", "fcpxml", "--out", str(path)]
    code, out, err = run(capsys, *args, "--workspace", "harbour")
    assert code == 2 and "Cards 1, 2, 3 have no finished chosen take" in err
    assert not path.exists()  # no empty file left behind
    for card in cards:
        finished_take(card, 1)
    code, out, err = run(capsys, *args, "--workspace", "harbour", "--json")
    assert code == 0, err
    assert json.loads(out)["format"] == "fcpxml"
    timeline = otio.adapters.read_from_file(str(path), "fcp_xml")
    assert [clip.name for clip in timeline.video_tracks()[0].find_clips()] == [
        f"{n:02d} {card.title}" for n, card in enumerate(cards, 1)
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        (["create", "--title", " "], "--title: give the board a title"),
        (["show", "999"], "no board 999 in “harbour”"),
        (["card-add", "{board}", "--seconds", "4"], "describe the shot"),
        (
            ["card-add", "{board}", "--subject", "x", "--seconds", "99"],
            "--seconds: a card lasts 1 to 60",
        ),
        (["render", "{board}", "--provider", "nope"], "no provider “nope”"),
        (["cut", "{board}"], "Cards 1, 2, 3 have no finished chosen take"),
        (["choose", "{card}", "999"], "take 999 wasn't made for card"),
        (["export", "{board}", "--format", "mov", "--out", "x"], "invalid choice"),
    ],
)
def test_invalid_input_is_one_line_and_exit_2(capsys, board, cards, args, message):
    args = [a.format(board=board.pk, card=cards[0].pk) for a in args]
    code, out, err = run(capsys, *args, "--workspace", "harbour")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not Take.objects.exists()


def test_render_wait_sees_the_board_animatic_through(capsys, board):
    card = boards.add_cards(board, [{"subject": "a gull", "seconds": 4}])[0]
    code, out, err = run(
        capsys, "render", str(board.pk), "--wait", "--workspace", "harbour", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["takes"] == [
        {"card": card.pk, "take": Take.objects.get().pk, "status": "completed"}
    ]


def test_render_chain_renders_continuing_cards_in_order_from_each_last_frame(capsys, board):
    first, second, third = boards.add_cards(
        board,
        [
            {"subject": "a gull", "seconds": 4},
            {"subject": "the gull lands", "seconds": 4, "continues": True},
            {"subject": "the gull sleeps", "seconds": 4, "continues": True},
        ],
    )
    code, out, err = run(capsys, "quote", str(board.pk), "--workspace", "harbour", "--json")
    assert code == 0 and json.loads(out)["waiting"][0].startswith(
        "Card 2 continues from card 1, which has no take yet"
    )
    code, out, err = run(
        capsys, "render", str(board.pk), "--chain", "--workspace", "harbour", "--json"
    )
    assert code == 0, err
    rendered = json.loads(out)["takes"]
    assert [r["card"] for r in rendered] == [first.pk, second.pk, third.pk]
    assert {r["status"] for r in rendered} == {"completed"}
    takes = [Take.objects.get(pk=r["take"]) for r in rendered]
    assert not takes[0].reference
    assert takes[1].reference_fit == {"mode": "last-frame", "take": takes[0].pk}
    assert takes[2].reference_fit == {"mode": "last-frame", "take": takes[1].pk}
    code, out, err = run(capsys, "show", str(board.pk), "--workspace", "harbour", "--json")
    assert [c["continues"] for c in json.loads(out)["cards"]] == [False, True, True]
