"""The board pages for each persona: what they show, what they change, what they refuse."""

import pytest
from django.db import connection
from django.urls import URLPattern, reverse

from library import reviews
from storyboard import boards
from storyboard.models import Board, Card
from storyboard.urls import urlpatterns
from tests.studio.test_pages_a11y import check

OK, SEE_OTHER = 200, 302
LOGIN = "login"
PERSONAS = ("anonymous", "outsider", "viewer", "editor", "owner")
READ = (LOGIN, 404, OK, OK, OK)
WRITE = (LOGIN, 404, 403, SEE_OTHER, SEE_OTHER)

# route name: (method, data, what each of PERSONAS gets, in that order)
MATRIX = {
    "boards":         ("get",  {}, READ),
    "board":          ("get",  {}, READ),
    "board_settings": ("post", {"title": "T", "target": "animatic", "size": "1280x720"}, WRITE),
    "board_style":    ("post", {"lighting": "dusk"}, WRITE),
    "card_add":       ("post", {"subject": "a fox"}, WRITE),
    "reorder":        ("post", {"order": "", "revision": "0"}, (LOGIN, 404, 403, 409, 409)),
    "import":         ("post", {"text": "Subject: a fox"}, WRITE),
    "render":         ("get",  {"with": "animatic"}, READ),
    "cancel_render":  ("post", {}, WRITE),
    "cut":            ("post", {}, (LOGIN, 404, 403, 400, 400)),
    "cut_media":      ("get",  {}, (LOGIN, 404, 404, 404, 404)),  # no cut yet
    "export":         ("get",  {"format": "otio"}, (LOGIN, 404, 400, 400, 400)),  # no takes
    "card":           ("get",  {}, READ),
    "card_preview":   ("post", {"subject": "a fox"}, READ),
    "card_settings":  ("post", {"seconds": "4"}, READ),
    "card_duplicate": ("post", {}, WRITE),
    "card_delete":    ("post", {}, WRITE),
    "card_move":      ("post", {"direction": "later"}, WRITE),
    "card_choose":    ("post", {"take": "999999"}, (LOGIN, 404, 403, 404, 404)),
    "card_render":    ("get",  {}, READ),
}  # fmt: skip


def test_every_route_is_in_the_matrix():
    assert {p.name for p in urlpatterns if isinstance(p, URLPattern)} == set(MATRIX)


def args_for(name: str, board: Board) -> list:
    if name == "boards":
        return ["harbour"]
    if name.startswith("card") and name != "card_add":
        # A card of its own for each request: a delete must not hide the next persona's answer.
        card = boards.add_cards(board, [{"subject": "a fox", "seconds": 4}])[0]
        return ["harbour", card.pk]
    return ["harbour", board.pk]


@pytest.mark.parametrize("name", MATRIX)
def test_access_matrix(client, personas, board, cards, name):
    method, data, expected = MATRIX[name]
    for persona, want in zip(PERSONAS, expected, strict=True):
        client.logout()
        if persona != "anonymous":
            client.force_login(personas[persona])
        url = reverse(f"storyboard:{name}", args=args_for(name, board))
        response = getattr(client, method)(url, data)
        if want == LOGIN:
            assert response.status_code == 302 and "/login/" in response["Location"], persona
        else:
            assert response.status_code == want, (persona, response.content[:300])


def test_another_workspaces_board_is_a_404_even_through_my_own_workspace(
    client_for, personas, board, cards
):
    client = client_for(personas["outsider"])
    assert client.get(reverse("storyboard:board", args=["elsewhere", board.pk])).status_code == 404
    card_url = reverse("storyboard:card_delete", args=["elsewhere", cards[0].pk])
    assert client.post(card_url).status_code == 404
    assert Card.objects.filter(pk=cards[0].pk).exists()


def test_the_board_page_shows_the_timeline_and_reads_well(client_for, personas, board, cards):
    boards.set_style(board, {"lighting": "golden hour"})
    for persona in ("editor", "viewer"):
        html = client_for(personas[persona]).get(
            reverse("storyboard:board", args=["harbour", board.pk])
        )
        page = check(html.content.decode())
        text = html.content.decode()
        assert (
            "00:04.00–00:08.00" in text and 'running time <span id="running-time">00:12.00' in text
        )
        assert "(board style)" in text and "golden hour" in text
        assert ('draggable="true"' in text) == (persona == "editor")
        assert ("Move card 2 earlier" in text) == (persona == "editor")
    assert "Boards" in page.links
    check(
        client_for(personas["editor"])
        .get(reverse("storyboard:boards", args=["harbour"]))
        .content.decode()
    )
    check(
        client_for(personas["editor"])
        .get(reverse("storyboard:card", args=["harbour", cards[0].pk]))
        .content.decode()
    )


def count_queries(client, url: str) -> int:
    """Queries one page costs (a wrapper: the request's start empties connection.queries)."""
    found = []

    def count(execute, sql, params, many, context):
        found.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        assert client.get(url).status_code == 200
    return len(found)


def test_the_board_page_costs_the_same_queries_for_more_cards(
    client_for, personas, board, cards, finished_take
):
    client = client_for(personas["editor"])
    url = reverse("storyboard:board", args=["harbour", board.pk])
    for card in cards:
        finished_take(card)
    few = count_queries(client, url)
    boards.add_cards(board, [{"subject": f"s{n}", "seconds": 4} for n in range(5)])
    for card in board.cards.all()[3:]:
        finished_take(card)
        finished_take(card, choose=False)
    assert 0 < count_queries(client, url) == few


def test_editors_add_duplicate_move_and_delete_cards_through_htmx(
    client_for, personas, board, cards
):
    client = client_for(personas["editor"])
    htmx = {"HX-Request": "true"}
    response = client.post(
        reverse("storyboard:card_add", args=["harbour", board.pk]),
        {"subject": "fog", "seconds": "8"},
        headers=htmx,
    )
    assert response.status_code == 200 and 'id="board-strip"' in response.content.decode()
    fog = board.cards.get(subject="fog")
    assert fog.position == 3 and fog.seconds == 8
    client.post(
        reverse("storyboard:card_move", args=["harbour", fog.pk]),
        {"direction": "earlier"},
        headers=htmx,
    )
    client.post(reverse("storyboard:card_duplicate", args=["harbour", fog.pk]), headers=htmx)
    assert list(board.cards.values_list("subject", flat=True)) == [
        "lighthouse keeper",
        "a gull",
        "fog",
        "fog",
        "the lamp",
    ]
    client.post(reverse("storyboard:card_delete", args=["harbour", fog.pk]), headers=htmx)
    assert list(board.cards.values_list("position", flat=True)) == [0, 1, 2, 3]


def test_a_bad_card_says_so_on_its_field_and_keeps_what_was_typed(client_for, personas, board):
    client = client_for(personas["editor"])
    url = reverse("storyboard:card_add", args=["harbour", board.pk])
    cut = f'action="{reverse("storyboard:cut", args=["harbour", board.pk])}"'
    for seconds in ("61", "0", "4.5"):
        response = client.post(url, {"subject": "fog rolls in", "seconds": seconds})
        html = response.content.decode()
        assert response.status_code == 400 and not board.cards.exists()
        check(html)
        assert 'id="add_seconds_error"' in html and "Seconds: 1 to 60" in html
        assert "Ensure this value" not in html and "board-problem" not in html
        assert 'value="fog rolls in"' in html and f'value="{seconds}"' in html
        assert cut not in html  # nothing to cut yet
    added = client.post(url, {"subject": "fog rolls in", "seconds": "8"})
    assert added.status_code == 302 and board.cards.get().seconds == 8
    assert cut in client.get(added["Location"]).content.decode()


def test_a_drag_and_drop_reorder_and_a_stale_one(client_for, personas, board, cards):
    client = client_for(personas["editor"])
    url = reverse("storyboard:reorder", args=["harbour", board.pk])
    ids = [c.pk for c in cards]
    order = ",".join(str(i) for i in [ids[2], ids[0], ids[1]])
    response = client.post(
        url, {"order": order, "revision": board.revision}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "board-problem" not in response.content.decode()
    assert list(board.cards.values_list("pk", flat=True)) == [ids[2], ids[0], ids[1]]
    stale = client.post(
        url,
        {"order": ",".join(map(str, ids)), "revision": board.revision},
        headers={"HX-Request": "true"},
    )
    assert "Someone changed this board" in stale.content.decode()
    assert list(board.cards.values_list("pk", flat=True)) == [ids[2], ids[0], ids[1]]


def test_a_card_shows_no_board_controls_and_no_made_up_style(client_for, personas, board, cards):
    client = client_for(personas["editor"])
    url = reverse("storyboard:card", args=["harbour", cards[1].pk])
    page = client.get(url).content.decode()
    check(page)
    assert 'id="id_provider"' not in page and 'name="size"' not in page
    assert 'name="seconds"' in page  # the card's own length stays
    assert "The board has no style yet" in page and "use the board style" not in page
    lighting = page.split('name="lighting"', 1)[1].split(">", 1)[0]
    assert 'placeholder=""' in lighting  # not the composer's sample text
    settings = client.post(
        reverse("storyboard:card_settings", args=["harbour", cards[1].pk]), {"subject": "a gull"}
    ).content.decode()
    assert 'id="id_provider"' not in settings and 'name="seconds"' in settings
    saved = client.post(url, {"subject": "a gull", "seconds": "8", "transition": "cut"})
    assert saved.status_code == 302
    cards[1].refresh_from_db()
    assert cards[1].seconds == 8 and board.size == "1280x720"


def test_a_card_still_says_when_its_boards_size_cant_render(client_for, personas, board, cards):
    Board.objects.filter(pk=board.pk).update(size="999x999")  # as if the model lost that size
    page = client_for(personas["editor"]).get(
        reverse("storyboard:card", args=["harbour", cards[0].pk])
    )
    html = page.content.decode()
    assert 'name="size"' not in html
    error = html.split('<p class="error" role="alert">', 1)[1].split("</p>", 1)[0]
    assert "999x999" in error


def test_editing_a_card_with_the_composer(client_for, personas, board, cards):
    boards.set_style(board, {"lighting": "golden hour"})
    client = client_for(personas["editor"])
    url = reverse("storyboard:card", args=["harbour", cards[1].pk])
    page = client.get(url).content.decode()
    assert 'placeholder="From the board style: golden hour"' in page and "Save card" in page
    preview = client.post(
        reverse("storyboard:card_preview", args=["harbour", cards[1].pk]), {"subject": "a gull"}
    )
    assert "Lighting: golden hour." in preview.content.decode()  # the prompt as it renders
    bad = client.post(url, {"subject": "a gull", "seconds": "61", "transition": "crossfade"})
    assert bad.status_code == 400 and "A card lasts 1 to 60 seconds" in bad.content.decode()
    check(bad.content.decode())
    fade = client.post(
        url,
        {"subject": "a gull", "seconds": "8", "transition": "crossfade", "transition_seconds": "9"},
        headers={"HX-Request": "true"},
    )
    assert "Ensure this value is less than or equal to 5" in fade.content.decode()
    saved = client.post(
        url,
        {
            "subject": "a gull",
            "motion": "dives",
            "seconds": "8",
            "transition": "crossfade",
            "transition_seconds": "1",
        },
    )
    assert saved.status_code == 302
    card = Card.objects.get(pk=cards[1].pk)
    assert (card.motion, card.seconds, card.transition, card.lighting) == (
        "dives",
        8,
        "crossfade",
        "",
    )
    assert float(card.transition_seconds) == 1.0


CUT = {"transition": "cut"}  # the card's hand-over, posted with the composer


def length_pills(html: str) -> list[tuple[str, bool]]:
    """The composer's Length choices: (value, checked) each."""
    group = html.split('aria-label="Seconds"', 1)[1].split("</div>", 1)[0]
    pills = group.split('name="seconds" value="')[1:]
    return [(pill.split('"', 1)[0], pill.split(">", 1)[0].endswith("checked")) for pill in pills]


def test_an_animatic_card_keeps_a_length_the_catalogue_does_not_list(
    client_for, personas, board, cards
):
    Card.objects.filter(pk=cards[1].pk).update(seconds=3)  # as the Add card form allows
    client = client_for(personas["editor"])
    url = reverse("storyboard:card", args=["harbour", cards[1].pk])
    assert length_pills(client.get(url).content.decode()) == [
        ("3", True),
        ("4", False),
        ("8", False),
        ("12", False),
    ]
    saved = client.post(url, {**CUT, "subject": "a gull", "motion": "glides", "seconds": "3"})
    assert saved.status_code == 302
    assert Card.objects.filter(pk=cards[1].pk, motion="glides", seconds=3).exists()
    five = client.post(url, {**CUT, "subject": "a gull", "seconds": "5"})  # any card length renders
    assert five.status_code == 302 and Card.objects.get(pk=cards[1].pk).seconds == 5
    empty = client.post(url, {**CUT, "subject": "a gull"}).content.decode()
    assert "This field is required" not in empty and "A card lasts 1 to 60 seconds" in empty


def test_a_card_shows_a_length_its_fixed_length_model_cant_make_and_says_which_it_makes(
    client_for, personas, priced, cards
):
    Card.objects.filter(pk=cards[1].pk).update(seconds=3)
    client = client_for(personas["editor"])
    url = reverse("storyboard:card", args=["harbour", cards[1].pk])
    assert ("3", True) in length_pills(client.get(url).content.decode())
    refused = client.post(url, {**CUT, "subject": "a gull", "motion": "glides", "seconds": "3"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Sora 2 makes clips of 4, 8, 12 seconds. “3” is not one of them." in html
    assert ("3", True) in length_pills(html)
    empty = client.post(url, {**CUT, "subject": "a gull"}).content.decode()
    assert "This field is required" not in empty
    assert "Sora 2 makes clips of 4, 8, 12 seconds. Pick one of those" in empty
    check(empty)
    assert Card.objects.get(pk=cards[1].pk).motion == ""
    assert client.post(url, {**CUT, "subject": "a gull", "seconds": "8"}).status_code == 302


def test_board_settings_and_a_size_the_model_does_not_render(client_for, personas, board):
    client = client_for(personas["owner"])
    url = reverse("storyboard:board_settings", args=["harbour", board.pk])
    bad = client.post(url, {"title": "T", "target": "animatic", "size": "320x180"})
    assert bad.status_code == 400 and "not one of them" in bad.content.decode()
    check(bad.content.decode())
    assert Board.objects.get(pk=board.pk).title == "Harbour at dawn"


def test_creating_a_board(client_for, personas):
    client = client_for(personas["editor"])
    response = client.post(
        reverse("storyboard:boards", args=["harbour"]),
        {"title": "Gulls", "target": "animatic", "size": "720x1280"},
    )
    board = Board.objects.get(title="Gulls")
    assert response["Location"] == reverse("storyboard:board", args=["harbour", board.pk])
    assert board.size == "720x1280" and board.provider == "animatic"
    assert (
        client.post(reverse("storyboard:boards", args=["harbour"]), {"title": ""}).status_code
        == 400
    )


def test_the_first_card_cannot_move_earlier_nor_the_last_later(client_for, personas, board, cards):
    client = client_for(personas["editor"])
    html = client.get(reverse("storyboard:board", args=["harbour", board.pk])).content.decode()
    assert 'aria-label="Move card 1 earlier" disabled' in html
    assert 'aria-label="Move card 3 later" disabled' in html
    assert html.count('" disabled>') == 2  # every other move is there to press


def test_the_progress_summary_follows_take_pushes_without_a_reload(
    client_for, personas, board, cards, finished_take
):
    client = client_for(personas["editor"])
    url = reverse("storyboard:board", args=["harbour", board.pk])
    page = client.get(url).content.decode()
    # A websocket push swaps a take card out of band; the summary asks for itself again.
    assert f'hx-get="{url}?part=progress" hx-trigger="htmx:oobAfterSwap from:body' in page
    assert "0 of 3 cards have a finished chosen take" in page
    finished_take(cards[0])
    part = client.get(url, {"part": "progress"}, headers={"HX-Request": "true"}).content.decode()
    assert part.lstrip().startswith('<div id="board-progress"') and "Timeline" not in part
    assert "1 of 3 cards have a finished chosen take" in part


def test_a_cards_takes_show_their_rating_and_circle(
    client_for, personas, board, cards, finished_take
):
    take = finished_take(cards[0])
    reviews.save_review(take, personas["viewer"], rating=5, passes={})
    reviews.circle(take, personas["editor"])
    url = reverse("storyboard:board", args=["harbour", board.pk])
    text = client_for(personas["viewer"]).get(url).content.decode()
    assert '<span class="card-note card-note-rating">5.0 ★</span>' in text
    assert '<span class="card-note card-note-circled">Circled</span>' in text


def test_the_board_pages_queries_do_not_grow_with_cards_or_takes(
    client_for, personas, board, cards, finished_take, django_assert_max_num_queries
):
    client = client_for(personas["editor"])
    url = reverse("storyboard:board", args=["harbour", board.pk])
    finished_take(cards[0])
    few = count_queries(client, url)
    boards.add_cards(board, [{"subject": f"s{n}", "seconds": 4} for n in range(12)])
    for card in board.cards.all():
        finished_take(card)
        finished_take(card, choose=False)
    with django_assert_max_num_queries(few):
        assert client.get(url).status_code == 200


def reorder_queries(client, board: Board) -> int:
    board.refresh_from_db()
    ids = list(board.cards.values_list("pk", flat=True))[::-1]
    found = []

    def count(execute, sql, params, many, context):
        found.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.post(
            reverse("storyboard:reorder", args=["harbour", board.pk]),
            {"order": ",".join(map(str, ids)), "revision": board.revision},
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 200 and "board-problem" not in response.content.decode()
    assert list(board.cards.values_list("pk", flat=True)) == ids
    return len(found)


def test_a_reorder_is_the_same_few_queries_for_any_number_of_cards(
    client_for, personas, board, cards
):
    client = client_for(personas["editor"])
    few = reorder_queries(client, board)
    boards.add_cards(board, [{"subject": f"s{n}", "seconds": 4} for n in range(20)])
    assert reorder_queries(client, board) == few
    assert list(board.cards.values_list("position", flat=True)) == list(range(23))


def test_a_change_of_order_answers_without_the_takes_which_stay_in_the_page(
    client_for, personas, board, cards, finished_take
):
    taken = [finished_take(card) for card in cards]
    client = client_for(personas["editor"])
    htmx = {"HX-Request": "true"}
    ids = [c.pk for c in cards]
    moved = client.post(
        reverse("storyboard:reorder", args=["harbour", board.pk]),
        {"order": ",".join(map(str, ids[::-1])), "revision": board.revision},
        headers=htmx,
    ).content.decode()
    for card, take in zip(cards, taken, strict=True):
        assert f'<div id="card-takes-{card.pk}" hx-preserve="true"></div>' in moved
        assert f"take-card-{take.pk}" not in moved  # htmx keeps the one on the page
    assert moved.index(f'id="slot-{ids[2]}"') < moved.index(f'id="slot-{ids[0]}"')
    stepped = client.post(
        reverse("storyboard:card_move", args=["harbour", cards[0].pk]),
        {"direction": "earlier"},
        headers=htmx,
    ).content.decode()
    assert "hx-preserve" in stepped and f"take-card-{taken[0].pk}" not in stepped
    # Anything else that answers with the strip brings the takes with it.
    chosen = client.post(
        reverse("storyboard:card_choose", args=["harbour", cards[0].pk]),
        {"take": taken[0].pk},
        headers=htmx,
    ).content.decode()
    assert "hx-preserve" not in chosen and f"take-card-{taken[0].pk}" in chosen
    page = client.get(reverse("storyboard:board", args=["harbour", board.pk])).content.decode()
    assert f'<div id="card-takes-{cards[0].pk}">' in page
