"""Board renders and review comments ring the bell: one line when a board render's takes
have all ended (not one per card), a client's comment or a member's review notes to the take's maker
and the link's maker — live to their open pages, and not to those who said no."""

import asyncio
import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from library import client_reviews, reviews, shares
from storyboard import boards, renders
from storyboard.models import BoardRender
from studio import live, takes
from studio.models import Membership, Status, Take
from teams import notifications
from teams.models import Notification, NotificationKind
from tests.library.helpers import make_take as library_take
from tests.studio.test_scale_out import database_url  # noqa: F401 (a fixture)
from tests.support.processes import make_install

from .test_notifications import make_take

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def long_takes(settings):
    settings.SLATE_NOTIFY_AFTER_SECONDS = 30


@pytest.fixture
def board(workspace):
    found = boards.create_board(workspace, "Harbour at dawn", size="1280x720")
    boards.add_cards(
        found,
        [
            {"subject": "lighthouse keeper", "seconds": 4},
            {"subject": "a gull", "seconds": 4},
            {"subject": "the lamp", "seconds": 4},
        ],
    )
    return found


def started(queued: list[Take], ago: float) -> None:
    """The render that queued these takes started ``ago`` seconds ago."""
    then = timezone.now() - timedelta(seconds=ago)
    Take.objects.filter(pk__in=[t.pk for t in queued]).update(created_at=then)
    BoardRender.objects.filter(card_takes__take__in=queued).update(created_at=then)


def render(board, user, *, ago: float = 125, **target) -> list[Take]:
    """The board rendered by ``user``, ``ago`` seconds ago."""
    queued = renders.render_board(board, user=user, **target)
    started(queued, ago)
    return queued


def complete(take: Take) -> None:
    assert takes.transition(take.pk, Status.COMPLETED, frm=(Status.QUEUED,))


def fail(take: Take, message: str = "the provider said no") -> None:
    assert takes.end(take.pk, Status.FAILED, message, "test")


def test_a_board_render_tells_its_maker_once_when_every_card_has_ended(personas, board):
    first, second, third = render(board, personas["editor"])
    complete(first)
    complete(second)
    assert not Notification.objects.exists()  # a card still renders: no news yet
    complete(third)
    note = Notification.objects.get()
    assert note.recipient == personas["editor"] and note.kind == NotificationKind.BOARD_FINISHED
    assert note.text == "Board “Harbour at dawn” finished after 2 min 5 s: 3 cards ready."
    assert note.link == reverse("storyboard:board", args=["harbour", board.pk])


def test_a_board_render_with_failures_says_so_with_the_first_reason(personas, board):
    first, second, third = render(board, personas["editor"], ago=3)  # quick, but failed
    complete(first)
    fail(second, "moderation blocked it")
    takes.cancel(third.pk)
    note = Notification.objects.get()
    assert note.kind == NotificationKind.BOARD_FAILED
    assert note.text == (
        "Board “Harbour at dawn” ended after 3 s: 1 card ready, 1 failed, 1 cancelled "
        "(card 2: moderation blocked it)."
    )


def test_a_quick_board_render_rings_no_bell(personas, board):
    for take in render(board, personas["editor"], ago=2):
        complete(take)
    assert not Notification.objects.exists()


def test_a_cancelled_board_render_rings_no_bell(personas, board):
    render(board, personas["editor"], ago=600)
    assert renders.cancel_board(board) == 3
    assert not Notification.objects.exists()


def test_a_later_render_of_the_board_is_told_on_its_own(personas, board):
    first = render(board, personas["editor"], ago=600)
    for take in first:
        complete(take)
    Notification.objects.all().delete()
    (redo,) = renders.render_board(board, user=personas["owner"], only=board.cards.last())
    started([redo], 40)
    fail(redo)
    note = Notification.objects.get()
    assert note.recipient == personas["owner"]
    assert note.text.startswith("Board “Harbour at dawn” ended after 40 s: 1 failed (card 3:")


def test_renders_running_side_by_side_are_each_told_when_their_own_takes_end(personas, board):
    """(Every board here renders the free animatic preview: previews are renders too.)"""
    first, _, last = board.cards.all()
    (slow,) = render(board, personas["editor"], ago=600, only=first)
    (quick,) = render(board, personas["owner"], ago=50, only=last)
    fail(quick)  # the board still renders the editor's card: the owner's render is over
    note = Notification.objects.get()
    assert note.recipient == personas["owner"]
    assert note.text.startswith("Board “Harbour at dawn” ended after 50 s: 1 failed (card 3:")
    complete(slow)
    assert Notification.objects.filter(recipient=personas["editor"]).get().text == (
        "Board “Harbour at dawn” finished after 10 min: 1 card ready."
    )


def test_takes_of_no_board_are_still_told_one_by_one(personas, workspace, board):
    fail(make_take(workspace, personas["editor"], ran=1), "boom")
    assert Notification.objects.get().kind == NotificationKind.TAKE_FAILED


def test_a_cards_take_of_no_render_is_told_on_its_own(personas, workspace, board):
    take = make_take(workspace, personas["editor"], ran=1)
    boards.link_take(board.cards.first(), take)  # linked before renders were recorded
    fail(take, "boom")
    assert Notification.objects.get().kind == NotificationKind.TAKE_FAILED


def test_a_long_board_render_mails_its_maker_when_they_asked(
    personas, board, django_capture_on_commit_callbacks
):
    editor = personas["editor"]
    editor.email = "editor@example.com"
    editor.save()
    notifications.set_email_long_takes(editor, True)
    with django_capture_on_commit_callbacks(execute=True):
        for take in render(board, editor):
            complete(take)
    assert [m.to for m in mail.outbox] == [["editor@example.com"]]
    assert "Board “Harbour at dawn” finished" in mail.outbox[0].subject


def test_a_finished_board_rings_the_bell_live_with_its_news(
    personas, board, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    group = live.user_group_name(personas["editor"].pk)
    async_to_sync(layer.group_add)(group, channel)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            for take in render(board, personas["editor"]):
                complete(take)
        note = Notification.objects.get()
        message = async_to_sync(asyncio.wait_for)(layer.receive(channel), 30)
    finally:
        async_to_sync(layer.group_discard)(group, channel)
    assert message["type"] == "user.notice"
    assert 'id="bell"' in message["html"] and f'data-news="{note.pk}"' in message["html"]
    assert "Board “Harbour at dawn” finished" in message["html"]


# Review comments.


@pytest.fixture
def review_link(personas, workspace):
    """A review link the owner made to a take the editor made."""
    take = library_take(
        workspace, "lighthouse keeper", video=b"\x00" * 64, created_by=personas["editor"]
    )
    owner = Membership.objects.get(user=personas["owner"], workspace=workspace)
    link, token = shares.create(owner, take=take, review=True)
    return link, token, take


def test_a_client_comment_tells_the_takes_maker_and_the_links_maker(personas, review_link):
    link, token, take = review_link
    said = Client().post(
        reverse("library_public:review", args=[token]),
        {"comment": take.pk, "name": "Ana", f"text-{take.pk}": "Love it", f"at-{take.pk}": "3"},
    )
    assert said.status_code == 302
    notes = Notification.objects.order_by("recipient__username")
    assert [n.recipient for n in notes] == [personas["editor"], personas["owner"]]
    note = notes[0]
    assert note.kind == NotificationKind.REVIEW_COMMENT
    assert note.text == "Ana (review link) commented on “lighthouse keeper” at 0:03: “Love it”"
    assert note.link == reverse("library:shares", args=["harbour"])


def test_who_turned_review_news_off_hears_nothing(personas, review_link):
    link, token, take = review_link
    notifications.set_preferences(personas["editor"], review_comments=False)
    client_reviews.comment(link, "Ana", take, "Too dark")
    assert [n.recipient for n in Notification.objects.all()] == [personas["owner"]]


def test_a_refused_comment_stores_and_tells_nothing(personas, review_link):
    link, token, take = review_link
    Client().post(
        reverse("library_public:review", args=[token]),
        {"comment": take.pk, "name": "Ana", f"text-{take.pk}": "  "},
    )
    assert not Notification.objects.exists()


def test_review_notes_tell_the_takes_maker_once_per_change(personas, workspace, review_link):
    link, token, take = review_link
    owner, editor = personas["owner"], personas["editor"]
    reviews.save_review(take, owner, rating=3, passes={"physics": (False, "the wave loops")})
    note = Notification.objects.get()
    assert note.recipient == editor and note.kind == NotificationKind.REVIEW_COMMENT
    assert note.text == "owner reviewed “lighthouse keeper”: physics: “the wave loops”"
    reviews.save_review(take, owner, rating=4, passes={"physics": (False, "the wave loops")})
    assert Notification.objects.count() == 1  # same note, new rating: no news
    reviews.save_review(take, editor, rating=5, passes={"technical": (True, "sharp")})
    assert Notification.objects.count() == 1  # your own review of your own take


def test_a_failing_review_receiver_never_loses_the_comment(personas, review_link, monkeypatch):
    link, token, take = review_link

    def broken(*args, **kwargs):
        raise RuntimeError("bell broke")

    monkeypatch.setattr(notifications, "notify", broken)
    client_reviews.comment(link, "Ana", take, "Still here")
    assert take.client_comments.get().text == "Still here"
    assert not Notification.objects.exists()


# Cards ending at once in several workers: the board is told once, not never, not twice.

BOARD_RACE = """
import json, threading, time
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from storyboard import boards, renders
from storyboard.models import BoardRender
from studio import takes
from studio.models import Membership, Status, Take, Workspace
from teams import boards as board_news
from teams.models import Notification

user = get_user_model().objects.create_user("racer")
workspace = Workspace.objects.create(name="Race", slug="race")
Membership.objects.create(user=user, workspace=workspace, role="owner")
board = boards.create_board(workspace, "Race", size="1280x720")
boards.add_cards(board, [{"subject": f"card {n}", "seconds": 4} for n in range(8)])
queued = renders.render_board(board, user=user)
BoardRender.objects.filter(board=board).update(created_at=timezone.now() - timedelta(minutes=10))
# Widen the window between a take's end and the look at its render, so that without the
# reservation's lock every worker would see the others still rendering (nobody would tell).
told = board_news.render_ended
def slow(render_id):
    time.sleep(0.05)
    told(render_id)
board_news.render_ended = slow
start = threading.Barrier(len(queued))
errors = []

def end(take):
    try:
        start.wait()
        assert takes.transition(take.pk, Status.COMPLETED, frm=(Status.QUEUED,))
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()

threads = [threading.Thread(target=end, args=(take,)) for take in queued]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({
    "errors": errors,
    "notes": list(Notification.objects.values_list("text", flat=True)),
}))
"""


def board_race(install) -> dict:
    done = install.manage("shell", "-v0", "-c", BOARD_RACE)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def told_once(result: dict) -> None:
    assert result["errors"] == [], result
    assert len(result["notes"]) == 1, result
    assert result["notes"][0].startswith("Board “Race” finished after 10 min"), result
    assert result["notes"][0].endswith(": 8 cards ready."), result


@pytest.mark.slow
def test_cards_ending_at_once_tell_the_board_once_on_sqlite(tmp_path):
    told_once(board_race(make_install(tmp_path / "var")))


@pytest.mark.slow
def test_cards_ending_at_once_tell_the_board_once_on_postgresql(
    tmp_path,
    database_url,  # noqa: F811
):
    told_once(board_race(make_install(tmp_path / "var", DATABASE_URL=database_url)))
