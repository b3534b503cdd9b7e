"""Price, reserve and render a board: all of it held at once, or nothing."""

from decimal import Decimal

import av
import pytest
from django.urls import reverse

from storyboard import assemble, boards, renders
from storyboard.models import Board, Card, CardTake
from studio import budgets, takes
from studio.engine import local
from studio.models import LedgerEntry, LedgerKind, Status, Take
from studio.providers import endpoints


def held(workspace) -> Decimal:
    """What the workspace's takes hold: each card's share, drawn from its render's
    reservation (test_render_ledger.py follows the reservations themselves)."""
    entries = LedgerEntry.objects.filter(
        workspace=workspace, kind=LedgerKind.HOLD, take__isnull=False
    )
    return sum((e.amount for e in entries), Decimal("0"))


def test_the_quote_is_the_price_of_every_card_that_needs_a_take(priced, cards):
    quote = renders.quote(priced)
    assert not quote.errors and [q.estimate for q in quote.cards] == [Decimal("0.4")] * 3
    assert quote.total == Decimal("1.2")


def test_rendering_holds_the_whole_price_and_links_a_chosen_take_per_card(priced, cards, editor):
    queued = renders.render_board(priced, user=editor)
    assert len(queued) == 3 and held(priced.workspace) == Decimal("1.2")
    for card, take in zip(boards.board_cards(priced), queued, strict=True):
        assert card.chosen_take_id == take.pk and take.status == Status.QUEUED
        assert CardTake.objects.get(take=take).card_id == card.pk
        assert (take.provider, take.model, take.seconds) == ("gw", "sora-2", 4)
    # Cards with a take on its way are left alone: nothing more to render or hold.
    with pytest.raises(renders.BoardRefused, match="Every card already has a take"):
        renders.render_board(priced, user=editor)
    assert held(priced.workspace) == Decimal("1.2")
    takes.cancel(queued[0].pk)  # a cancelled card costs nothing: its hold comes back
    released = LedgerEntry.objects.get(take=queued[0], kind=LedgerKind.RELEASE)
    assert released.amount == Decimal("0.4")


def test_one_bad_card_refuses_the_whole_board_and_stores_nothing(priced, cards, editor):
    Card.objects.filter(pk=cards[1].pk).update(seconds=5)
    Card.objects.filter(pk=cards[2].pk).update(subject="", motion="")
    with pytest.raises(renders.BoardRefused) as caught:
        renders.render_board(priced, user=editor)
    assert caught.value.errors == [
        "Card 2 is 5 s; Sora 2 makes 4, 8, 12 s clips. Pick one of those.",
        "Card 3 is empty: describe its shot.",
    ]
    assert not Take.objects.exists() and not LedgerEntry.objects.exists()


def test_an_empty_board_or_a_missing_provider_is_refused(board, editor):
    with pytest.raises(renders.BoardRefused, match="no cards yet"):
        renders.render_board(board, user=editor)
    board.provider = "gone"
    boards.add_cards(board, [{"subject": "fox", "seconds": 4}])
    with pytest.raises(renders.BoardRefused, match="no provider “gone”"):
        renders.render_board(board, user=editor)


def test_the_render_page_shows_the_price_first_then_reserves(client_for, personas, priced):
    client = client_for(personas["editor"])
    url = reverse("storyboard:render", args=["harbour", priced.pk])
    page = client.get(url).content.decode()
    assert 'id="quote-total">$1.20' in page and "Reserve and render ($1.20)" in page
    assert not Take.objects.exists()
    assert client.post(url).status_code == 302
    assert Take.objects.count() == 3 and held(priced.workspace) == Decimal("1.2")
    again = client.post(url)
    assert again.status_code == 400 and "Every card already has a take" in again.content.decode()
    assert client_for(personas["viewer"]).post(url).status_code == 403


def test_a_board_past_the_budget_is_refused_whole_before_anything_is_queued(
    client_for, personas, priced
):
    budgets.set_budget(priced.workspace, monthly_cap=Decimal("1.00"))
    client = client_for(personas["editor"])
    url = reverse("storyboard:render", args=["harbour", priced.pk])
    page = client.get(url).content.decode()
    assert "these 3 cards would cost $1.20" in page
    assert "monthly cap of $1.00 has $1.00 left" in page
    assert "Reserve and render" not in page
    refused = client.post(url)
    assert (
        refused.status_code == 400 and "these 3 cards would cost $1.20" in refused.content.decode()
    )
    assert not Take.objects.exists() and not LedgerEntry.objects.exists()


def test_a_cap_reached_after_the_quote_still_refuses_the_board_whole(
    priced, cards, editor, monkeypatch
):
    budgets.set_budget(priced.workspace, monthly_cap=Decimal("1.00"))
    # as if the quote had passed and others spent the rest before the holds were written
    monkeypatch.setattr(renders.budgets, "precheck", lambda *args, **kwargs: None)
    with pytest.raises(renders.BoardRefused) as caught:
        renders.render_board(priced, user=editor)
    # The whole board's reservation is what the cap refuses, not its first card's share.
    assert "these 3 cards would cost $1.20" in str(caught.value)
    assert "has $1.00 left" in str(caught.value)
    assert not Take.objects.exists() and not LedgerEntry.objects.exists()


def test_the_board_animatic_renders_every_card_free_and_cuts_them_together(
    client_for, personas, board, cards
):
    boards.delete_card(cards[2])  # two 4 s cards (the animatic's shortest) keep this quick
    client = client_for(personas["editor"])
    url = reverse("storyboard:render", args=["harbour", board.pk])
    assert "free" in client.get(url, {"with": "animatic"}).content.decode().lower()
    client.post(url, {"with": "animatic"})
    queued = list(Take.objects.order_by("pk"))
    assert [t.provider for t in queued] == ["animatic", "animatic"]
    assert held(board.workspace) == 0
    page = client.get(reverse("storyboard:board", args=["harbour", board.pk])).content.decode()
    assert "0 of 2 cards have a finished chosen take · 2 rendering" in page
    for take in queued:
        local.run_take(take.pk)
    response = client.post(reverse("storyboard:cut", args=["harbour", board.pk]))
    assert response.status_code == 302
    board.refresh_from_db()
    assert board.cut_info["method"] == "copy" and board.cut_info["takes"] == [t.pk for t in queued]
    with av.open(board.cut.path) as container:
        assert abs(container.duration / av.time_base - 8) < 0.1


@pytest.fixture
def editor(personas):
    return personas["editor"]


def test_a_cut_needs_a_finished_chosen_take_on_every_card(board, cards, finished_take):
    finished_take(cards[0])
    with pytest.raises(assemble.CutRefused, match="Cards 2, 3 have no finished chosen take"):
        assemble.make_cut(board)


def test_cancelling_the_board_render_releases_every_card_still_on_its_way(
    client_for, personas, priced, cards, finished_take
):
    finished_take(cards[0], 1)  # already done: kept, and not rendered again
    queued = renders.render_board(priced, user=personas["editor"])
    assert len(queued) == 2 and held(priced.workspace) == Decimal("0.8")
    client = client_for(personas["editor"])
    page = client.get(reverse("storyboard:board", args=["harbour", priced.pk])).content.decode()
    assert "Cancel the board render" in page
    client.post(reverse("storyboard:cancel_render", args=["harbour", priced.pk]))
    assert {t.status for t in Take.objects.filter(pk__in=[t.pk for t in queued])} == {
        Status.CANCELLED
    }
    releases = LedgerEntry.objects.filter(kind=LedgerKind.RELEASE, take__in=queued)
    assert sum(e.amount for e in releases) == Decimal("0.8")
    assert Take.objects.filter(status=Status.COMPLETED).count() == 1


def test_an_animatic_preview_does_not_stand_in_for_the_real_render(
    client_for, personas, board, cards, finished_take
):
    previews = [finished_take(card, 1) for card in cards]  # the free preview, done
    assert {t.provider for t in previews} == {"animatic"}
    endpoints.add_endpoint(
        board.workspace,
        name="gw",
        kind="openai",
        base_url="https://gw.example/v1",
        api_key="sk-test-123456",
        models=["sora-2"],
    )
    board.provider, board.model = "gw", "sora-2"
    board.save()
    quote = renders.quote(board)
    assert not quote.errors and [q.card.pk for q in quote.cards] == [c.pk for c in cards]
    assert quote.total == Decimal("1.2") and quote.skipped == 0
    client = client_for(personas["editor"])
    assert client.post(reverse("storyboard:render", args=["harbour", board.pk])).status_code == 302
    real = list(Take.objects.filter(provider="gw").order_by("pk"))
    assert len(real) == 3 and held(board.workspace) == Decimal("1.2")
    assert [c.chosen_take_id for c in boards.board_cards(board)] == [t.pk for t in real]
    # The real takes are chosen now: a second free preview leaves every card alone.
    with pytest.raises(renders.BoardRefused, match="Every card already has a take"):
        renders.render_board(board, user=personas["editor"], provider="animatic", model="")


def test_the_quote_prices_only_cards_without_a_real_take(priced, cards, finished_take, editor):
    finished_take(cards[0], 1)  # made on gw/sora-2: kept
    other_model = finished_take(cards[1], 1)
    Take.objects.filter(pk=other_model.pk).update(model="sora-2-pro")
    failed = finished_take(cards[2], 1)
    Take.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    quote = renders.quote(priced)
    assert [q.number for q in quote.cards] == [2, 3] and quote.skipped == 1
    assert quote.total == Decimal("0.8")
    queued = renders.render_board(priced, user=editor)
    chosen = {c.pk: c.chosen_take_id for c in boards.board_cards(priced)}
    assert [chosen[cards[1].pk], chosen[cards[2].pk]] == [t.pk for t in queued]


def terms(page: str) -> str:
    """What the render page says happens to the money, above its button."""
    return page.split("data-long-job>", 1)[1].split("<p>", 1)[1].split("</p>", 1)[0]


def test_a_free_render_says_it_is_free_and_holds_no_reservation(
    client_for, personas, board, cards, priced
):
    client = client_for(personas["editor"])
    url = reverse("storyboard:render", args=["harbour", board.pk])
    free = client.get(url, {"with": "animatic"}).content.decode()
    assert terms(free) == (
        "This render is free (Animatic preview (local, free)): nothing is held or charged."
    )
    assert "Render the animatic (free)" in free and "reservation" not in free
    paid = client.get(url).content.decode()
    assert terms(paid).startswith("The whole price is held now, as one reservation")
    Board.objects.filter(pk=board.pk).update(provider="animatic", model="")
    one = client.get(reverse("storyboard:card_render", args=["harbour", cards[1].pk]))
    assert terms(one.content.decode()) == (
        "This render is free (Animatic preview (local, free)): nothing is held or charged. "
        "The new take becomes the card's chosen one."
    )
    assert "Render (free)" in one.content.decode()


def test_one_card_renders_on_its_own_priced_and_held_then_chosen(
    client_for, personas, priced, cards, finished_take
):
    kept = finished_take(cards[1], 1)  # a finished real take: asked by name, it gets another
    client = client_for(personas["editor"])
    board_page = client.get(reverse("storyboard:board", args=["harbour", priced.pk]))
    url = reverse("storyboard:card_render", args=["harbour", cards[1].pk])
    assert f'href="{url}"' in board_page.content.decode()
    page = client.get(url).content.decode()
    assert "Render card 2 of" in page and "Reserve and render ($0.40)" in page
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].endswith(f"#card-{cards[1].pk}")
    new = Take.objects.exclude(pk=kept.pk).get()
    assert (new.provider, new.model) == ("gw", "sora-2") and held(priced.workspace) == Decimal(
        "0.4"
    )
    assert boards.board_cards(priced)[1].chosen_take_id == new.pk
    # While it renders, asking again holds nothing more.
    again = client.post(url)
    assert (
        again.status_code == 400
        and "Card 2 is already rendering on Sora 2" in again.content.decode()
    )
    assert held(priced.workspace) == Decimal("0.4") and Take.objects.count() == 2
    assert client_for(personas["viewer"]).post(url).status_code == 403


def test_the_free_preview_renders_each_card_at_its_own_length(personas, priced, cards):
    """A shot list's 3 s and 5 s cards preview as written: the animatic's 4/8/12 s are the
    lengths its composer offers, not a limit of Slate's own renderer; a paid model's
    lengths still rule."""
    boards.delete_card(cards[2])
    Card.objects.filter(pk=cards[0].pk).update(seconds=3)
    Card.objects.filter(pk=cards[1].pk).update(seconds=5)
    assert "Card 1 is 3 s" in " ".join(renders.quote(priced).errors)
    assert renders.quote(priced, "animatic", "").errors == []
    queued = renders.render_board(priced, user=personas["editor"], provider="animatic", model="")
    assert [t.seconds for t in queued] == [3, 5]
    for take in queued:
        local.run_take(take.pk)
        take.refresh_from_db()
        assert take.status == Status.COMPLETED
        with av.open(take.video.path) as container:
            assert abs(container.duration / av.time_base - take.seconds) < 0.1
