"""Boards and cards: inheritance of the board style, the order of cards, warnings."""

import pytest
from django.http import Http404

from storyboard import boards
from storyboard.models import Card
from studio.prompts import Shot
from studio.providers import endpoints


def positions(board):
    return list(board.cards.values_list("subject", "position"))


def test_a_card_inherits_the_board_style_unless_it_says_otherwise(board, cards):
    boards.set_style(board, {"lighting": "golden hour", "atmosphere": "  calm,   windy  "})
    keeper, gull, _ = cards
    gull.lighting = "moonlight"
    gull.save()
    keeper = Card.objects.select_related("board").get(pk=keeper.pk)
    gull = Card.objects.select_related("board").get(pk=gull.pk)
    assert keeper.shot().lighting == "golden hour" and keeper.shot().atmosphere == "calm, windy"
    assert keeper.own_shot().lighting == ""
    assert gull.shot().lighting == "moonlight"
    rows = {label: (value, inherited) for label, value, inherited in keeper.field_rows()}
    assert rows["Lighting"] == ("golden hour", True) and rows["Subject"][1] is False


def test_changing_the_style_restyles_every_card_at_once(board, cards):
    boards.set_style(board, {"lighting": "neon"})
    assert {c.shot().lighting for c in boards.board_cards(board)} == {"neon"}


def test_cards_are_added_duplicated_deleted_and_moved_keeping_positions_a_permutation(board, cards):
    keeper, gull, lamp = cards
    copy = boards.duplicate_card(gull)
    assert copy.position == 2 and copy.subject == "a gull"
    assert [p for _, p in positions(board)] == [0, 1, 2, 3]
    boards.delete_card(keeper)
    assert positions(board) == [("a gull", 0), ("a gull", 1), ("the lamp", 2)]
    boards.move_card(Card.objects.get(pk=lamp.pk), -1)
    assert [s for s, _ in positions(board)] == ["a gull", "the lamp", "a gull"]
    boards.move_card(Card.objects.get(pk=lamp.pk), -5)  # past the start: first, no further
    assert [p for _, p in positions(board)] == [0, 1, 2]
    added = boards.add_cards(board, [{"subject": "fog", "seconds": 8}], at=0)[0]
    assert added.position == 0 and [p for _, p in positions(board)] == [0, 1, 2, 3]


def test_a_reorder_built_on_a_stale_view_is_refused_and_changes_nothing(board, cards):
    seen = board.revision
    ids = [c.pk for c in cards]
    boards.reorder(board, list(reversed(ids)), seen)
    assert [s for s, _ in positions(board)] == ["the lamp", "a gull", "lighthouse keeper"]
    with pytest.raises(boards.StaleOrder):
        boards.reorder(board, ids, seen)  # a second person, with the order they saw before
    assert [s for s, _ in positions(board)] == ["the lamp", "a gull", "lighthouse keeper"]
    with pytest.raises(boards.StaleOrder):
        boards.reorder(board, ids[:2], board.revision)  # not every card: lost positions
    with pytest.raises(boards.StaleOrder):
        boards.reorder(board, [ids[0], ids[0], ids[1]], board.revision)  # duplicates


def test_timeline_timecodes_and_running_time(board, cards):
    keeper, gull, lamp = cards
    gull.seconds = 8
    gull.transition = "crossfade"
    gull.save()
    found = boards.board_cards(board)
    starts = [slot.start for slot in boards.timeline(found)]
    assert starts == [0, 4, 11.5]
    assert boards.running_time(found) == 15.5
    assert boards.timecode(75.5) == "01:15.50"
    assert boards.timeline([]) == [] and boards.running_time([]) == 0


def test_warnings_for_too_many_cards_and_a_card_longer_than_the_model_allows(priced, cards):
    board = priced
    assert boards.warnings(board, boards.board_cards(board)) == []
    boards.add_cards(board, [{"subject": f"shot {n}", "seconds": 4} for n in range(6)])
    Card.objects.filter(pk=cards[0].pk).update(seconds=20)
    found = boards.warnings(board, boards.board_cards(board))
    assert any("9 cards" in w for w in found)
    assert any("Card 1 is 20 s" in w and "at most 12 s" in w for w in found)


def test_the_animatic_renders_a_card_at_its_own_length_so_no_length_is_warned_of(board, cards):
    Card.objects.filter(pk=cards[1].pk).update(seconds=3)
    Card.objects.filter(pk=cards[2].pk).update(seconds=20)
    assert boards.warnings(board, boards.board_cards(board)) == []


def test_a_model_with_fixed_lengths_is_warned_of_a_length_it_cant_make(priced, cards):
    Card.objects.filter(pk=cards[1].pk).update(seconds=3)
    assert boards.warnings(priced, boards.board_cards(priced)) == [
        "Card 2 is 3 s; Sora 2 makes 4, 8, 12 s clips. Pick one of those."
    ]


def test_which_lengths_a_board_model_renders_for_a_card(priced):
    sora = boards.target_of(priced)
    animatic = endpoints.find_target(priced.workspace, "animatic")
    assert [s for s in range(0, 62) if boards.renders_length(animatic, s)] == list(range(1, 61))
    assert [s for s in range(0, 62) if boards.renders_length(sora, s)] == [4, 8, 12]
    assert not boards.renders_length(animatic, None)


def test_choosing_a_take_not_made_for_the_card_is_refused(cards, finished_take):
    keeper, gull, _ = cards
    take = finished_take(keeper, choose=False)
    with pytest.raises(Http404):
        boards.choose(gull, take.pk)
    boards.choose(keeper, take.pk)
    assert Card.objects.get(pk=keeper.pk).chosen_take_id == take.pk


def test_board_cards_costs_the_same_queries_for_any_number_of_cards(
    board, cards, finished_take, django_assert_num_queries
):
    for card in cards:
        finished_take(card)
    with django_assert_num_queries(2):
        found = boards.board_cards(board)
        [(c.chosen_take, list(c.card_takes.all()), c.shot()) for c in found]
    assert isinstance(found[0].shot(), Shot)
