"""The cut, decoded with PyAV: the chosen takes in card order, as long as they are together."""

import av
import pytest
from django.urls import reverse

from storyboard import assemble, boards, cut
from storyboard.models import Card


def decoded(path) -> tuple[float, int, float, tuple[int, int]]:
    """Seconds of video, frames, seconds of sound, and the picture size."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        size = (stream.codec_context.width, stream.codec_context.height)
        seconds = float(stream.duration * stream.time_base)
    with av.open(str(path)) as container:
        samples = sum(frame.samples for frame in container.decode(audio=0))
    return seconds, frames, samples / 48_000, size


def test_takes_that_match_are_joined_without_re_encoding(board, cards, finished_take):
    chosen = [finished_take(cards[0], 1), finished_take(cards[1], 2), finished_take(cards[2], 1)]
    info = assemble.make_cut(board)
    assert info["method"] == "copy" and info["takes"] == [t.pk for t in chosen]
    seconds, frames, sound, size = decoded(board.cut.path)
    assert abs(seconds - 4) <= 1 / 24 and frames == 4 * 24 and size == (320, 180)
    assert abs(sound - 4) < 0.05  # the sound runs on across the joins
    with av.open(board.cut.path) as container:
        chapters = [
            (c["metadata"]["title"], round(float(c["start"] * c["time_base"]), 2))
            for c in container.chapters()
        ]
    assert chapters == [("1. lighthouse keeper", 0), ("2. a gull", 1), ("3. the lamp", 3)]


def test_takes_of_different_sizes_are_normalised_to_the_first(
    tmp_path, board, cards, finished_take
):
    finished_take(cards[0], 1)
    finished_take(cards[1], 1, width=640, height=360)
    finished_take(cards[2], 2)
    info = assemble.make_cut(board)
    assert info["method"] == "encode" and (info["width"], info["height"]) == (320, 180)
    seconds, frames, sound, size = decoded(board.cut.path)
    assert frames == 4 * 24 and size == (320, 180) and abs(seconds - 4) <= 1 / 24
    assert abs(sound - 4) < 0.05


def test_the_cut_follows_the_card_order(board, cards, finished_take):
    takes = [finished_take(card, 1) for card in cards]
    boards.reorder(board, [cards[2].pk, cards[0].pk, cards[1].pk], board.revision)
    assert assemble.make_cut(board)["takes"] == [takes[2].pk, takes[0].pk, takes[1].pk]


def test_the_cut_plays_on_the_board_page_and_downloads(
    client_for, personas, board, cards, finished_take
):
    for card in cards:
        finished_take(card, 1)
    client = client_for(personas["viewer"])
    assert client.post(reverse("storyboard:cut", args=["harbour", board.pk])).status_code == 403
    assert (
        client_for(personas["editor"])
        .post(reverse("storyboard:cut", args=["harbour", board.pk]))
        .status_code
        == 302
    )
    client = client_for(personas["viewer"])
    page = client.get(reverse("storyboard:board", args=["harbour", board.pk])).content.decode()
    assert "<video" in page and "Download the cut (MP4)" in page
    media = reverse("storyboard:cut_media", args=["harbour", board.pk])
    response = client.get(media, {"download": "1"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert response["Content-Type"] == "video/mp4"
    assert b"ftyp" in b"".join(response.streaming_content)[:16]


def test_a_cut_refused_names_the_cards_and_keeps_the_old_cut(
    client_for, personas, board, cards, finished_take
):
    response = client_for(personas["editor"]).post(
        reverse("storyboard:cut", args=["harbour", board.pk])
    )
    assert response.status_code == 400
    assert "Cards 1, 2, 3 have no finished chosen take yet" in response.content.decode()
    board.refresh_from_db()
    assert not board.cut


def test_join_refuses_nothing_to_join(tmp_path):
    with pytest.raises(ValueError):
        cut.join([], tmp_path / "x.mp4")


def test_crossfades_blend_and_shorten_the_cut_by_their_overlap(board, cards, finished_take):
    for card in cards:
        finished_take(card, 2)
    Card.objects.filter(board=board).update(seconds=2)
    Card.objects.filter(pk=cards[0].pk).update(transition="crossfade", transition_seconds=0.5)
    Card.objects.filter(pk=cards[1].pk).update(transition="crossfade", transition_seconds=1)
    info = assemble.make_cut(board)
    assert info["method"] == "encode" and info["planned"] == 4.5
    seconds, frames, sound, _ = decoded(board.cut.path)
    assert frames == round(4.5 * 24) and abs(seconds - 4.5) <= 1 / 24 and abs(sound - 4.5) < 0.05
    with av.open(board.cut.path) as container:
        starts = [round(float(c["start"] * c["time_base"]), 2) for c in container.chapters()]
    assert starts == [0, 1.5, 2.5]
