"""A viewer's studio page is for watching: every take, playable, with its status and
prompt, a note saying who can give editor access, and nothing that would fail."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio import live, takes

STUDIO = reverse("workspace", args=["harbour"])
GENERATE = reverse("generate", args=["harbour"])


def test_viewer_sees_the_takes_with_players_statuses_and_prompts(
    client_for, personas, workspace, shot, rendered_take
):
    waiting = takes.queue_take(workspace, shot, provider="animatic", size="1280x720", seconds=4)
    html = client_for(personas["viewer"]).get(STUDIO).content.decode()
    assert 'class="studio studio-watch"' in html  # the takes get the whole width
    assert f'id="take-card-{rendered_take.pk}"' in html and f'id="take-card-{waiting.pk}"' in html
    assert f'src="/takes/{rendered_take.pk}/video/"' in html  # a player for the finished one
    assert f'poster="/takes/{rendered_take.pk}/poster/"' in html
    assert 'class="badge badge-completed">Completed' in html
    assert 'class="badge badge-queued">Queued' in html
    assert html.count("Subject: lighthouse keeper. Motion: climbs the spiral stairs.") == 2


def test_viewer_is_told_they_can_watch_and_whom_to_ask(client_for, personas):
    html = client_for(personas["viewer"]).get(STUDIO).content.decode()
    assert "You're a viewer here: you can watch every take" in html
    assert "ask an owner of the workspace (owner)" in html
    assert f'href="{reverse("teams:members", args=["harbour"])}"' in html


def test_viewer_gets_no_composer_and_no_buttons_that_would_fail(
    client_for, personas, workspace, shot
):
    takes.queue_take(workspace, shot, provider="animatic", size="1280x720", seconds=4)
    html = client_for(personas["viewer"]).get(STUDIO).content.decode()
    assert 'id="composer"' not in html and GENERATE not in html
    assert 'id="library-panel"' not in html
    assert "take_cancel" not in html and "/cancel/" not in html
    assert "Compose a shot" not in html


def test_viewer_with_no_takes_yet_is_not_told_to_generate(client_for, personas):
    html = client_for(personas["viewer"]).get(STUDIO).content.decode()
    assert "When an editor generates one, it appears here" in html
    assert "press Generate" not in html


def test_editor_still_gets_the_composer_and_thumbnails(client_for, personas, rendered_take):
    html = client_for(personas["editor"]).get(STUDIO).content.decode()
    assert 'id="composer"' in html and f'action="{GENERATE}"' in html
    assert "studio-watch" not in html and "You're a viewer here" not in html
    assert 'class="card-player"' not in html and 'class="thumb ratio-1280x720"' in html


def test_a_push_to_viewers_renders_the_card_they_were_given(rendered_take):
    assert 'class="card-player"' in live.take_card_html(rendered_take, "view")
    assert 'class="card-player"' not in live.take_card_html(rendered_take, "edit")


def test_viewer_page_queries_do_not_grow_with_takes(client_for, personas, workspace, shot):
    client = client_for(personas["viewer"])

    def queries_for(count: int) -> int:
        while workspace.takes.count() < count:
            takes.queue_take(workspace, shot, provider="animatic", size="1280x720", seconds=4)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(STUDIO).status_code == 200
        return len(captured)

    assert queries_for(1) == queries_for(20)
