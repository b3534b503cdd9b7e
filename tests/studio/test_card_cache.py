"""The studio page keeps finished takes' cards (studio/templatetags/slate.py): drawn once,
then served from the cache until anything they are drawn from changes."""

import re

from django.urls import reverse

from library import reviews
from studio import live, takes
from studio.models import Take

STUDIO = reverse("workspace", args=["harbour"])


def cards_drawn(response) -> int:
    return [t.name for t in response.templates].count("studio/take_card.html")


def card_of(html: str, pk: int) -> str:
    return re.search(rf'<article id="take-card-{pk}".*?</article>', html, re.S).group(0)


def test_a_finished_card_is_drawn_once_then_kept(client_for, personas, rendered_take):
    editor = client_for(personas["editor"])
    first = editor.get(STUDIO)
    assert cards_drawn(first) == 1
    again = editor.get(STUDIO)
    assert cards_drawn(again) == 0, "the unchanged card was drawn again"
    kept = card_of(again.content.decode(), rendered_take.pk)
    assert kept == card_of(first.content.decode(), rendered_take.pk)
    # The kept card is the one every other list and push draws.
    assert kept == live.take_card_html(rendered_take, "edit").strip()


def test_a_change_to_the_take_draws_its_card_afresh(client_for, personas, rendered_take):
    editor = client_for(personas["editor"])
    editor.get(STUDIO)
    Take.objects.filter(pk=rendered_take.pk).update(subject="a gull on the railing")
    changed = editor.get(STUDIO)
    assert cards_drawn(changed) == 1
    assert "a gull on the railing" in card_of(changed.content.decode(), rendered_take.pk)


def test_new_review_notes_draw_the_card_afresh(client_for, personas, rendered_take):
    editor = client_for(personas["editor"])
    assert "card-note-rating" not in card_of(editor.get(STUDIO).content.decode(), rendered_take.pk)
    reviews.save_review(rendered_take, personas["editor"], rating=4, passes={})
    card = card_of(editor.get(STUDIO).content.decode(), rendered_take.pk)
    assert '<span class="card-note card-note-rating">4.0 ★</span>' in card


def test_viewers_and_editors_each_get_their_own_card(client_for, personas, rendered_take):
    client_for(personas["editor"]).get(STUDIO)
    watched = client_for(personas["viewer"]).get(STUDIO).content.decode()
    assert 'class="card-player"' in card_of(watched, rendered_take.pk)
    edited = client_for(personas["editor"]).get(STUDIO).content.decode()
    assert 'class="card-player"' not in card_of(edited, rendered_take.pk)


def test_a_running_take_is_drawn_every_time(client_for, personas, workspace, shot):
    takes.queue_take(workspace, shot, provider="animatic", size="1280x720", seconds=4)
    editor = client_for(personas["editor"])
    assert cards_drawn(editor.get(STUDIO)) == 1
    assert cards_drawn(editor.get(STUDIO)) == 1  # its elapsed time moves on
