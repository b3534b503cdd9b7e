"""The ledger of a board render: one reservation for the whole board, a share per card
drawn from it, each finished card charged once, the rest released."""

import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from storyboard import boards, renders
from storyboard.models import BoardRender, CardTake
from studio import budgets, ledger, takes
from studio.models import LedgerEntry, LedgerKind, Status, Take

ZERO = Decimal("0")


@pytest.fixture
def editor(personas):
    return personas["editor"]


def ended(take: Take, status: str) -> None:
    """End ``take`` as the engine would: completed (charged), or failed/refused (released)."""
    if status == Status.COMPLETED:
        Take.objects.filter(pk=take.pk).update(status=Status.IN_PROGRESS, lease_owner="worker-1")
        assert takes.complete(take.pk, "worker-1")
    else:
        assert takes.end(take.pk, status, "it went wrong", "test")


def reservations(workspace) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(workspace=workspace, take=None, kind=LedgerKind.HOLD))


def entries(kind: str, queued: list[Take]) -> dict[int, Decimal]:
    found = LedgerEntry.objects.filter(kind=kind, take__in=queued)
    return {entry.take_id: entry.amount for entry in found}


def test_the_whole_board_is_one_reservation_each_card_drawing_its_share(priced, cards, editor):
    queued = renders.render_board(priced, user=editor)
    (reservation,) = reservations(priced.workspace)
    assert reservation.amount == Decimal("1.2") and reservation.user_id == editor.pk
    render = BoardRender.objects.get()
    assert render.reservation_id == reservation.pk and not ledger.account(reservation).closed
    assert set(CardTake.objects.values_list("render_id", flat=True)) == {render.pk}
    draws = LedgerEntry.objects.filter(kind=LedgerKind.HOLD, take__in=queued)
    assert {d.drawn_from_id for d in draws} == {reservation.pk}
    assert sum(d.amount for d in draws) == reservation.amount
    account = ledger.account(reservation)
    assert (account.held, account.spent, account.released, account.pending) == (
        Decimal("1.2"),
        ZERO,
        ZERO,
        Decimal("1.2"),
    )


def test_each_finished_card_is_charged_once_and_the_rest_released_when_the_last_ends(
    priced, cards, editor
):
    done, broken, refused = renders.render_board(priced, user=editor)
    render = BoardRender.objects.get()
    ended(done, Status.COMPLETED)
    ended(broken, Status.FAILED)
    account = ledger.account(render.reservation)
    assert not account.closed and account.pending == Decimal("0.4")  # one is on its way
    ended(refused, Status.REFUSED)  # the last: the reservation is closed with it
    queued = [done, broken, refused]
    assert entries(LedgerKind.CHARGE, queued) == {done.pk: Decimal("0.4")}
    # A refused (or failed) card costs nothing: its whole share comes back.
    assert entries(LedgerKind.RELEASE, queued) == {
        broken.pk: Decimal("0.4"),
        refused.pk: Decimal("0.4"),
    }
    assert Take.objects.get(pk=refused.pk).charged == 0
    account = ledger.account(render.reservation)
    assert (account.spent, account.released, account.pending, account.closed) == (
        Decimal("0.4"),
        Decimal("0.8"),
        ZERO,
        True,
    )
    # Charges and releases add up to the hold, exactly: the takes' and the reservation's own.
    rest = LedgerEntry.objects.get(drawn_from=render.reservation, take=None)
    assert rest.kind == LedgerKind.RELEASE and rest.amount == ZERO
    assert account.spent + account.released == render.reservation.amount
    assert ledger.unbalanced_reservations() == [] and ledger.unbalanced_takes() == []


def test_cancelling_the_board_render_cancels_what_is_left_and_finishes_it(
    client_for, personas, priced, cards, editor
):
    done, *rest = renders.render_board(priced, user=editor)
    ended(done, Status.COMPLETED)
    client = client_for(personas["editor"])
    client.post(reverse("storyboard:cancel_render", args=["harbour", priced.pk]))
    assert {t.status for t in Take.objects.filter(pk__in=[t.pk for t in rest])} == {
        Status.CANCELLED
    }
    render = BoardRender.objects.get()
    account = ledger.account(render.reservation)
    assert render.cancelled_at is not None and account.closed
    assert (account.held, account.spent, account.released, account.pending) == (
        Decimal("1.2"),
        Decimal("0.4"),
        Decimal("0.8"),
        ZERO,
    )
    page = client.get(reverse("storyboard:board", args=["harbour", priced.pk])).content.decode()
    assert (
        "Held $1.20 for the last render (3 cards, cancelled) · spent $0.40 · released $0.80."
        in page
    )
    assert ledger.unbalanced_reservations() == []


def test_the_board_page_shows_the_hold_of_the_render_under_way(
    client_for, personas, priced, cards, editor
):
    first, *_ = renders.render_board(priced, user=editor)
    ended(first, Status.FAILED)
    page = client_for(personas["viewer"]).get(
        reverse("storyboard:board", args=["harbour", priced.pk])
    )
    assert (
        "Held $1.20 for this render (3 cards) · spent $0.00 · released $0.40 · "
        "$0.80 still held." in page.content.decode()
    )


def test_the_reservation_is_closed_in_the_transaction_that_ends_its_last_take(
    priced, cards, editor
):
    queued = renders.render_board(priced, user=editor)
    render = BoardRender.objects.get()
    for take in queued[:-1]:
        ended(take, Status.FAILED)
    with pytest.raises(RuntimeError), transaction.atomic():  # a crash before the commit
        ended(queued[-1], Status.COMPLETED)
        assert ledger.account(render.reservation).closed
        raise RuntimeError("crash")
    assert not ledger.account(render.reservation).closed  # undone with the take's end
    assert Take.objects.get(pk=queued[-1].pk).status == Status.QUEUED
    ended(queued[-1], Status.COMPLETED)
    assert ledger.account(render.reservation).closed


def test_a_reservation_is_released_once_and_never_overdrawn(priced, cards, editor):
    renders.render_board(priced, user=editor)
    render = BoardRender.objects.select_related("reservation").get()
    extra = Take.objects.create(
        workspace=priced.workspace,
        provider="gw",
        model="sora-2",
        size="1280x720",
        seconds=4,
        seed=1,
    )
    with pytest.raises(ledger.ReservationSpent):  # the three cards drew all of it
        ledger.hold(extra, Decimal("0.01"), drawn_from=render.reservation)
    for take in Take.objects.filter(status=Status.QUEUED):
        takes.cancel(take.pk)
    assert ledger.account(render.reservation).closed
    assert ledger.close(render.reservation) == ZERO  # a second close gives back nothing
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            workspace=priced.workspace,
            kind=LedgerKind.RELEASE,
            amount=ZERO,
            drawn_from=render.reservation,
        )
    assert LedgerEntry.objects.filter(drawn_from=render.reservation, take=None).count() == 1


def test_an_open_reservation_counts_against_the_cap_until_closed(priced, editor):
    budgets.set_budget(priced.workspace, monthly_cap=Decimal("1.50"))
    with transaction.atomic():
        reservation = ledger.reserve(priced.workspace_id, editor, Decimal("1.20"), what="a board")
    with pytest.raises(budgets.OverBudget, match="another board would cost \\$0.40"):
        ledger.reserve(priced.workspace_id, editor, Decimal("0.40"), what="another board")
    ledger.close(reservation)  # nothing drew from it: all of it comes back
    ledger.reserve(priced.workspace_id, editor, Decimal("0.40"), what="another board")


def test_a_board_past_the_cap_is_refused_whole_as_one_reservation(priced, cards, editor):
    budgets.set_budget(priced.workspace, monthly_cap=Decimal("1.19"))
    with pytest.raises(renders.BoardRefused, match="these 3 cards would cost \\$1.20"):
        renders.render_board(priced, user=editor)
    assert not Take.objects.exists() and not LedgerEntry.objects.exists()
    assert not BoardRender.objects.exists()
    budgets.set_budget(priced.workspace, monthly_cap=Decimal("1.20"))
    assert len(renders.render_board(priced, user=editor)) == 3


def test_board_render_json_shows_the_hold(capsys, priced, cards):
    call_command("board", "render", str(priced.pk), "--workspace", "harbour", "--json")
    found = json.loads(capsys.readouterr().out)
    render = BoardRender.objects.get()
    assert found["renders"] == [
        {
            "id": render.pk,
            "cards": 3,
            "held": "1.20",
            "spent": "0.00",
            "released": "0.00",
            "pending": "1.20",
            "finished": False,
            "cancelled": False,
        }
    ]
    assert len(found["takes"]) == 3


def test_the_board_animatic_holds_nothing_and_finishes_when_rendered(capsys, board, cards):
    boards.delete_card(cards[2])
    call_command("board", "render", str(board.pk), "--wait", "--workspace", "harbour", "--json")
    (render,) = json.loads(capsys.readouterr().out)["renders"]
    assert (render["held"], render["spent"], render["released"], render["finished"]) == (
        "0.00",
        "0.00",
        "0.00",
        True,
    )


def test_variations_are_priced_and_held_in_the_one_reservation(
    client_for, personas, priced, cards, editor
):
    quote = renders.quote(priced, variations=2)
    assert [q.price for q in quote.cards] == [Decimal("0.8")] * 3
    assert quote.total == Decimal("2.4")
    client = client_for(personas["editor"])
    url = reverse("storyboard:render", args=["harbour", priced.pk])
    page = client.get(url, {"variations": "2"}).content.decode()
    assert "Total for 3 cards × 2 variations" in page and "Reserve and render ($2.40)" in page
    assert client.post(url, {"variations": "2"}).status_code == 302
    (reservation,) = reservations(priced.workspace)
    assert reservation.amount == Decimal("2.4")
    made = CardTake.objects.filter(render__reservation=reservation).order_by("take_id")
    assert [link.card_id for link in made] == [c.pk for c in cards for _ in range(2)]
    # Each card's first new take is its chosen one; the other waits to be chosen.
    chosen = [c.chosen_take_id for c in boards.board_cards(priced)]
    assert chosen == [made[0].take_id, made[2].take_id, made[4].take_id]
    ended(Take.objects.get(pk=made[0].take_id), Status.COMPLETED)
    for link in made[1:]:
        takes.cancel(link.take_id)
    account = ledger.account(reservation)
    assert (account.spent, account.released, account.pending) == (
        Decimal("0.4"),
        Decimal("2.0"),
        ZERO,
    )


def test_variations_out_of_range_are_refused_by_name(capsys, client_for, personas, priced, cards):
    page = client_for(personas["editor"]).post(
        reverse("storyboard:render", args=["harbour", priced.pk]), {"variations": "9"}
    )
    assert page.status_code == 400 and "Variations: 1 to 4 takes per card." in page.content.decode()
    with pytest.raises(SystemExit) as exit:
        call_command(
            "board", "quote", str(priced.pk), "--variations", "0", "--workspace", "harbour"
        )
    assert exit.value.code == 2
    assert "Variations: 1 to 4 takes per card." in capsys.readouterr().err
    assert not Take.objects.exists() and not LedgerEntry.objects.exists()


def test_a_workspace_goes_with_its_board_renders_and_their_reservations(priced, cards, editor):
    queued = renders.render_board(priced, user=editor)
    queued[0].delete()  # a take deleted on its own leaves the reservation in place
    assert len(reservations(priced.workspace)) == 1
    priced.workspace.delete()
    assert not LedgerEntry.objects.exists() and not BoardRender.objects.exists()


def test_a_free_preview_does_not_hide_the_paid_renders_account(
    client_for, personas, priced, cards, editor
):
    first, *_ = renders.render_board(priced, user=editor)
    takes.cancel(first.pk)
    boards.add_cards(priced, [{"subject": "the harbour wakes", "seconds": 4}])
    renders.render_board(priced, user=editor, provider="animatic", model="")
    assert BoardRender.objects.count() == 2
    page = client_for(editor).get(reverse("storyboard:board", args=["harbour", priced.pk]))
    assert "Held $1.20 for this render (3 cards) · spent $0.00 · released $0.40" in (
        page.content.decode()
    )


def test_a_eur_workspace_sees_the_render_and_its_quote_in_euros(
    client_for, personas, priced, cards, editor
):
    workspace = priced.workspace
    workspace.currency, workspace.rate = "EUR", Decimal("0.9")
    workspace.save()
    client = client_for(personas["viewer"])
    quote = client.get(reverse("storyboard:render", args=["harbour", priced.pk])).content.decode()
    assert "€1.08" in quote and "$" not in quote.split('id="quote-total"')[1].split("</td>")[0]
    first, *_ = renders.render_board(priced, user=editor)
    assert LedgerEntry.objects.get(take=None).amount == Decimal("1.2")  # the ledger: dollars
    ended(first, Status.FAILED)
    page = client.get(reverse("storyboard:board", args=["harbour", priced.pk])).content.decode()
    assert (
        "Held €1.08 for this render (3 cards) · spent €0.00 · released €0.36 · "
        "€0.72 still held." in page
    )
