"""Continuity: a card that continues the one before starts from its chosen take's last frame."""

import io
import json
from fractions import Fraction

import av
import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from storyboard import boards, renders
from storyboard.models import Card, CardTake
from studio.models import Status, Take, Workspace
from studio.providers import endpoints

LAST = (200, 40, 90)  # the previous take's last frame; every frame before it is blue
BEFORE = (30, 60, 220)


def mp4_ending_in(colour: tuple[int, int, int], *, frames: int = 30) -> bytes:
    """A real H.264 MP4 (320x180, 24 fps) whose frames are blue but the last, ``colour``."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.time_base = Fraction(1, 24)
        for index in range(frames):
            picture = np.full((180, 320, 3), colour if index == frames - 1 else BEFORE, np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


def finished(card: Card, colour=LAST, *, workspace=None) -> Take:
    """A completed take of ``card`` with a real video ending in ``colour``, chosen for it."""
    take = Take.objects.create(
        workspace=workspace or card.board.workspace,
        provider="animatic",
        model="animatic",
        subject=card.subject,
        composed_prompt=card.subject,
        size="320x180",
        seconds=1,
        seed=1,
        status=Status.COMPLETED,
        progress=100,
    )
    take.video.save(f"take-{take.pk}.mp4", ContentFile(mp4_ending_in(colour)))
    if workspace is None:
        CardTake.objects.create(card=card, take=take)
        boards.choose(card, take.pk)
    return take


def continuing(card: Card) -> Card:
    Card.objects.filter(pk=card.pk).update(continues=True)
    card.continues = True
    return card


def centre(take: Take) -> tuple[int, int, int]:
    with take.reference.open("rb") as handle, Image.open(handle) as image:
        assert image.size == (1280, 720)
        return image.convert("RGB").getpixel((640, 360))


def close(found, wanted, tolerance: int = 8) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(found, wanted, strict=True))


def test_a_continuing_card_starts_from_the_previous_takes_last_frame(board, cards, personas):
    previous = finished(cards[0])
    continuing(cards[1])
    quote = renders.quote(board)
    assert [q.number for q in quote.cards] == [2, 3] and not quote.waiting
    assert quote.cards[0].continues_from == previous
    queued = renders.render_board(board, user=personas["editor"])
    second, third = queued
    assert close(centre(second), LAST) and not close(centre(second), BEFORE)
    assert second.reference_fit == {"mode": "last-frame", "take": previous.pk}
    assert second.reference_source is None
    assert not third.reference  # a card that doesn't continue gets no frame
    assert Card.objects.get(pk=cards[1].pk).chosen_take_id == second.pk


def test_continuity_replaces_the_cards_own_reference(board, cards, personas, workspace):
    from studio import references

    picture = io.BytesIO()
    Image.new("RGB", (640, 360), (0, 255, 0)).save(picture, "PNG")
    reference = references.add_reference(workspace, picture.getvalue(), "green.png")
    Card.objects.filter(pk=cards[1].pk).update(reference=reference)
    finished(cards[0])
    continuing(cards[1])
    second, _ = renders.render_board(board, user=personas["editor"])
    assert close(centre(second), LAST)


def test_a_card_whose_previous_card_has_no_take_yet_waits_and_says_why(
    client_for, personas, board, cards
):
    continuing(cards[1])
    quote = renders.quote(board)
    assert [q.number for q in quote.cards] == [1, 3]
    assert quote.waiting == [
        "Card 2 continues from card 1, which has no take yet: it renders from that last "
        "frame when you render the board again once card 1 has a finished take."
    ]
    page = client_for(personas["editor"]).get(
        reverse("storyboard:render", args=["harbour", board.pk])
    )
    assert "Card 2 continues from card 1, which has no take yet" in page.content.decode()
    first, third = renders.render_board(board, user=personas["editor"])
    assert not CardTake.objects.filter(card=cards[1]).exists()
    # Card 1's take is on its way: card 2 still waits, for that take to finish.
    assert renders.quote(board).errors == ["Nothing can render yet."]
    assert (
        renders.quote(board)
        .waiting[0]
        .startswith("Card 2 continues from card 1, whose chosen take is still rendering")
    )
    Take.objects.filter(pk=first.pk).update(status=Status.COMPLETED)
    first.refresh_from_db()
    first.video.save("first.mp4", ContentFile(mp4_ending_in(LAST)))
    (second,) = renders.render_board(board, user=personas["editor"])
    assert close(centre(second), LAST)


def test_rendering_only_a_continuing_card_before_its_previous_one_is_refused(
    board, cards, personas
):
    continuing(cards[1])
    with pytest.raises(renders.BoardRefused) as caught:
        renders.render_board(board, user=personas["editor"], only=cards[1])
    assert caught.value.errors == [
        "Card 2 continues from card 1, which has no take yet: render card 1 first."
    ]
    assert not Take.objects.exists()


def test_a_model_that_takes_no_first_frame_says_so(board, cards, personas):
    endpoint = endpoints.add_endpoint(
        board.workspace,
        name="gw",
        kind="openai",
        base_url="https://gw.example/v1",
        api_key="sk-test-123456",
        models=["sora-2"],
    )
    endpoint.model_overrides = {"sora-2": {"image_reference": False}}
    endpoint.save()
    board.provider, board.model = "gw", "sora-2"
    board.save()
    finished(cards[0])
    continuing(cards[1])
    with pytest.raises(renders.BoardRefused) as caught:
        renders.render_board(board, user=personas["editor"])
    assert caught.value.errors == [
        "Card 2 continues from card 1's last frame; Sora 2 takes no first frame. Turn "
        "continuity off for it, or pick a model that takes one."
    ]
    assert not Take.objects.filter(provider="gw").exists()


def test_another_workspaces_take_never_lends_its_frame(board, cards, personas):
    elsewhere = Workspace.objects.create(name="Elsewhere", slug="elsewhere-2")
    foreign = finished(cards[0], workspace=elsewhere)
    Card.objects.filter(pk=cards[0].pk).update(chosen_take=foreign)  # forced past choose()
    continuing(cards[1])
    quote = renders.quote(board)
    assert 2 not in [q.number for q in quote.cards]
    assert quote.waiting[0].startswith("Card 2 continues from card 1, which has no take yet")
    for take in renders.render_board(board, user=personas["editor"]):
        assert not take.reference


def test_the_first_card_has_nothing_to_continue(board, cards, personas):
    continuing(cards[0])
    quote = renders.quote(board)
    assert [q.number for q in quote.cards] == [1, 2, 3] and not quote.waiting


def test_the_timeline_shows_the_link_and_the_card_page_sets_it(client_for, personas, board, cards):
    client = client_for(personas["editor"])
    url = reverse("storyboard:card", args=["harbour", cards[1].pk])
    assert "Start from the previous card" in client.get(url).content.decode()
    client.post(
        url,
        {"subject": "a gull", "seconds": "4", "transition": "cut", "continues": "on"},
    )
    assert Card.objects.get(pk=cards[1].pk).continues
    page = client.get(reverse("storyboard:board", args=["harbour", board.pk])).content.decode()
    assert "slot-continues" in page and "from card 1's last frame" in page
    first = client.get(reverse("storyboard:card", args=["harbour", cards[0].pk])).content.decode()
    assert "Start from the previous card" not in first


def test_the_animatic_renders_a_continuing_card_over_that_last_frame(board, cards, personas):
    from studio.engine import local

    finished(cards[0])
    continuing(cards[1])
    second, _ = renders.render_board(board, user=personas["editor"])
    local.run_take(second.pk)
    second.refresh_from_db()
    assert second.status == Status.COMPLETED
    with av.open(second.video.path) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    corner = tuple(int(v) for v in first[8, 8])
    assert close(corner, LAST, tolerance=40), corner


def stale_cards(board) -> list[int]:
    return [card.pk for card in boards.board_cards(board) if card.continuity_stale]


def show(capsys, board) -> list[dict]:
    from django.core.management import call_command

    call_command("board", "show", str(board.pk), "--workspace", "harbour", "--json")
    return json.loads(capsys.readouterr().out)["cards"]


def rendered_from(card: Card, source: Take) -> Take:
    """A finished take of ``card`` made from ``source``'s last frame, chosen for it."""
    take = finished(card)
    Take.objects.filter(pk=take.pk).update(reference_fit={"mode": "last-frame", "take": source.pk})
    return take


def test_choosing_another_take_of_the_card_before_makes_the_next_one_stale(
    capsys, client_for, personas, board, cards
):
    first = finished(cards[0])
    continuing(cards[1])
    rendered_from(cards[1], first)
    assert stale_cards(board) == [] and not any(c["continuity_stale"] for c in show(capsys, board))
    other = finished(cards[0], (0, 200, 0))  # chosen for card 1 now
    assert stale_cards(board) == [cards[1].pk]
    assert [c["continuity_stale"] for c in show(capsys, board)] == [False, True, False]
    page = client_for(personas["viewer"]).get(
        reverse("storyboard:board", args=["harbour", board.pk])
    )
    assert "Starts from an older take of card 1 — re-render to match" in page.content.decode()
    boards.choose(cards[0], first.pk)  # back to the take it started from: in step again
    assert stale_cards(board) == []
    boards.choose(cards[0], other.pk)
    assert stale_cards(board) == [cards[1].pk]


def test_re_rendering_the_card_before_makes_the_next_one_stale_until_it_is_re_rendered(
    board, cards, personas
):
    first = finished(cards[0])
    continuing(cards[1])
    rendered_from(cards[1], first)
    finished(cards[2])
    (again,) = renders.render_board(board, user=personas["editor"], only=cards[0])
    assert stale_cards(board) == [cards[1].pk]  # already while card 1's new take renders
    # "Render board" picks the stale card up once card 1's new take has finished.
    assert (
        renders.quote(board)
        .waiting[0]
        .startswith("Card 2 continues from card 1, whose chosen take is still rendering")
    )
    again.status = Status.COMPLETED
    again.video.save("again.mp4", ContentFile(mp4_ending_in(LAST)))
    (second,) = renders.render_board(board, user=personas["editor"])
    assert second.reference_fit == {"mode": "last-frame", "take": again.pk}
    assert CardTake.objects.get(take=second).card_id == cards[1].pk
    assert stale_cards(board) == []


def test_a_card_that_does_not_continue_or_was_not_made_from_a_last_frame_is_never_stale(
    board, cards
):
    first = finished(cards[0])
    rendered_from(cards[1], first)  # made from card 1's frame, but continuity is off now
    finished(cards[2])  # continues, but its take was made from no last frame
    continuing(cards[2])
    finished(cards[0], (0, 200, 0))
    finished(cards[1], (0, 0, 200))
    assert stale_cards(board) == []
