"""Pages, forms and media: what members see and do, and that outsiders see nothing."""

import io
from pathlib import Path

import pytest
from django.urls import reverse

from studio import takes
from studio.models import Status, Take

VALID = {
    "subject": "a red fox",
    "motion": "trots across fresh snow",
    "camera": "truck left alongside",
    "lighting": "golden hour",
    "atmosphere": "crisp, quiet; crunching snow",
    "provider": "animatic",
    "size": "1280x720",
    "seconds": "4",
}


def test_compose_page_shows_the_smcla_fields_and_settings(client_for, personas):
    page = client_for(personas["editor"]).get(reverse("workspace", args=["harbour"]))
    html = page.content.decode()
    assert page.status_code == 200
    for name in ("subject", "motion", "camera", "lighting", "atmosphere", "prompt", "dialogue"):
        assert f'name="{name}"' in html
    for size in ("1280x720", "720x1280", "1024x1792", "1792x1024"):
        assert f'value="{size}"' in html
    assert 'ws-connect="/ws/w/harbour/"' in html
    assert "{#" not in html and "{%" not in html  # no template syntax leaks onto the page


def test_preview_composes_as_you_type(client_for, personas):
    response = client_for(personas["editor"]).post(
        reverse("compose_preview", args=["harbour"]),
        {"subject": "a red fox", "camera": "truck left"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert 'class="preview-head"' in html and "<html" not in html
    assert "Subject: a red fox. Camera: truck left." in html
    assert "5 words" in html  # the labels are not counted


def test_generate_queues_a_take_and_shows_it_at_once(client_for, personas):
    client = client_for(personas["editor"])
    response = client.post(
        reverse("generate", args=["harbour"]), VALID, headers={"HX-Request": "true"}
    )
    take = Take.objects.get()
    html = response.content.decode()
    assert take.status == Status.QUEUED and take.created_by == personas["editor"]
    assert take.composed_prompt.startswith("Subject: a red fox.")
    assert f'id="take-card-{take.pk}"' in html
    assert 'hx-swap-oob="afterbegin:#take-list"' in html  # joins the list as the page shows it
    assert 'id="take-list"' not in html  # not the first page again: older takes stay open
    assert "a red fox</textarea>" in html  # the composer keeps the shot for the next try


def test_generate_without_htmx_redirects_to_the_take(client_for, personas):
    response = client_for(personas["owner"]).post(reverse("generate", args=["harbour"]), VALID)
    assert response.status_code == 302
    assert response["Location"] == reverse("take", args=[Take.objects.get().pk])


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"size": "1080x1080"}, "size", "t render “1080x1080”"),
        ({"seconds": "6"}, "seconds", "“6” is not one of them"),
        ({"provider": "sora-2"}, "provider", "Unknown provider"),
        ({"motion": "x" * 4001}, "motion", "takes at most 4,000"),
        ({"prompt": "y" * 3900}, "prompt", "takes at most 4,000"),
        ({"seed": "-3"}, "seed", "A seed is a whole number from 0 to 2,147,483,647."),
        ({"seed": "2147483648"}, "seed", "A seed is a whole number from 0 to 2,147,483,647."),
        (
            dict.fromkeys(("subject", "motion", "camera", "lighting", "atmosphere"), ""),
            "form",
            "Describe the shot",
        ),
    ],
)
def test_bad_input_is_explained_next_to_the_field_and_nothing_is_queued(
    client_for, personas, change, field, message
):
    response = client_for(personas["editor"]).post(
        reverse("generate", args=["harbour"]), {**VALID, **change}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    slot = "error-form" if field == "form" else f"id_{field}_error"
    error = html.split(f'id="{slot}"', 1)[1].split("</", 1)[0]
    assert message in error  # the message sits in that field's error slot
    assert html.count('class="error"') + html.count('class="form-error"') == 1  # and only there
    assert not Take.objects.exists()


def test_an_overlong_field_gets_one_error_not_two(client_for, personas):
    html = (
        client_for(personas["editor"])
        .post(
            reverse("generate", args=["harbour"]),
            {**VALID, "subject": "s" * 4001},
            headers={"HX-Request": "true"},
        )
        .content.decode()
    )
    assert 'id="id_subject_error"' in html and "Describe the shot" not in html


def test_bad_input_without_htmx_is_a_400_page(client_for, personas):
    response = client_for(personas["editor"]).post(
        reverse("generate", args=["harbour"]), {**VALID, "size": "1x1"}
    )
    assert response.status_code == 400 and "t render “1x1”" in response.content.decode()
    assert not Take.objects.exists()


def test_viewers_watch_but_cannot_generate_or_cancel(client_for, personas, workspace, shot):
    client = client_for(personas["viewer"])
    page = client.get(reverse("workspace", args=["harbour"]))
    assert page.status_code == 200 and b'id="composer"' not in page.content
    assert client.post(reverse("generate", args=["harbour"]), VALID).status_code == 403
    take = takes.queue_take(workspace, shot, provider="animatic", size="1280x720", seconds=4)
    assert client.post(reverse("take_cancel", args=[take.pk])).status_code == 403
    assert Take.objects.get().status == Status.QUEUED


def test_editor_cancels_a_queued_take(client_for, personas, workspace, shot):
    take = takes.queue_take(workspace, shot, provider="animatic", size="1280x720", seconds=4)
    response = client_for(personas["editor"]).post(
        reverse("take_cancel", args=[take.pk]),
        headers={"HX-Request": "true", "HX-Target": f"take-live-{take.pk}"},
    )
    assert response.status_code == 200 and b"Cancelled" in response.content
    assert Take.objects.get().status == Status.CANCELLED


def test_take_page_shows_player_probe_and_download(client_for, personas, rendered_take):
    html = client_for(personas["viewer"]).get(reverse("take", args=[rendered_take.pk])).content
    html = html.decode()
    assert f'src="/takes/{rendered_take.pk}/video/"' in html
    assert f'poster="/takes/{rendered_take.pk}/poster/"' in html
    assert "H264 High" in html and "1280×720" in html and "24.0 fps" in html and "4.0 s" in html
    assert reverse("take_download", args=[rendered_take.pk]) in html
    assert "lighthouse keeper" in html
    assert "{#" not in html and "{%" not in html


@pytest.mark.parametrize("name", ["take", "take_download", "take_cancel"])
def test_outsiders_get_404_for_take_pages(client_for, personas, rendered_take, name):
    client = client_for(personas["outsider"])
    method = client.post if name == "take_cancel" else client.get
    assert method(reverse(name, args=[rendered_take.pk])).status_code == 404
    assert Take.objects.get().status == Status.COMPLETED


def test_members_get_the_hover_spritesheet(client_for, personas, rendered_take):
    from PIL import Image

    response = client_for(personas["viewer"]).get(
        reverse("take_media", args=[rendered_take.pk, "sprites"])
    )
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    sheet = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert sheet.size == (1600, 90)  # ten 160 px frames of a 16:9 take


@pytest.mark.parametrize("kind", ["video", "poster", "sprites"])
def test_outsiders_get_404_for_media(client_for, personas, rendered_take, kind):
    response = client_for(personas["outsider"]).get(
        reverse("take_media", args=[rendered_take.pk, kind])
    )
    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, rendered_take):
    response = client.get(reverse("take_media", args=[rendered_take.pk, "video"]))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_outsiders_get_404_for_another_workspace(client_for, personas):
    client = client_for(personas["outsider"])
    assert client.get(reverse("workspace", args=["harbour"])).status_code == 404
    assert client.post(reverse("generate", args=["harbour"]), VALID).status_code == 404
    assert not Take.objects.exists()


def read(response) -> bytes:
    try:
        return b"".join(response.streaming_content)
    finally:
        response.close()


def test_video_answers_range_requests_with_206(client_for, personas, rendered_take):
    client = client_for(personas["viewer"])
    url = reverse("take_media", args=[rendered_take.pk, "video"])
    original = Path(rendered_take.video.path).read_bytes()

    whole = client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert read(whole) == original

    part = client.get(url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-1099/{len(original)}"
    assert part["Content-Length"] == "1000"
    assert read(part) == original[100:1100]

    tail = client.get(url, headers={"Range": "bytes=-500"})
    assert read(tail) == original[-500:]
    open_ended = client.get(url, headers={"Range": f"bytes={len(original) - 10}-"})
    assert read(open_ended) == original[-10:]

    beyond = client.get(url, headers={"Range": f"bytes={len(original)}-"})
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(original)}"


def test_download_is_an_attachment_with_the_original_bytes(client_for, personas, rendered_take):
    response = client_for(personas["viewer"]).get(reverse("take_download", args=[rendered_take.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"slate-{rendered_take.pk}-lighthouse-keeper.mp4" in response["Content-Disposition"]
    assert read(response) == Path(rendered_take.video.path).read_bytes()


def test_media_has_no_public_url(client_for, personas, rendered_take, settings):
    # Not even a member reaches the stored file except through the checked views.
    client = client_for(personas["owner"])
    assert settings.MEDIA_URL in ("", "/")  # nothing is routed under it
    for prefix in ("/media/", "/", "/static/", "/takes/"):
        assert client.get(prefix + rendered_take.video.name).status_code == 404


def test_use_this_shot_again_prefills_the_composer(client_for, personas, rendered_take):
    html = (
        client_for(personas["editor"])
        .get(reverse("workspace", args=["harbour"]) + f"?from={rendered_take.pk}")
        .content.decode()
    )
    assert "lighthouse keeper</textarea>" in html
    assert f'value="{rendered_take.seed}"' in html


def test_workspace_list_query_count_does_not_grow_with_takes(
    client_for, personas, workspace, shot, django_assert_num_queries
):
    client = client_for(personas["editor"])
    url = reverse("workspace", args=["harbour"])

    def queries_for(count: int) -> int:
        while workspace.takes.count() < count:
            takes.queue_take(workspace, shot, provider="animatic", size="1280x720", seconds=4)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    assert queries_for(1) == queries_for(20)


def test_use_this_shot_again_refuses_a_take_from_another_workspace(
    client_for, personas, rendered_take
):
    response = client_for(personas["outsider"]).get(
        reverse("workspace", args=["elsewhere"]) + f"?from={rendered_take.pk}"
    )
    assert response.status_code == 404


def test_htmx_requests_after_logout_redirect_the_whole_page(client, workspace):
    response = client.post(
        reverse("compose_preview", args=["harbour"]),
        {"subject": "x"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/login/")


@pytest.mark.parametrize(
    ("platform", "size"), [("9:16", "720x1280"), ("16:9", "1280x720"), ("1:1", "1792x1024")]
)
def test_platform_buttons_pick_the_models_size_and_1_1_explains(
    client_for, personas, platform, size
):
    panel = (
        client_for(personas["editor"])
        .post(
            reverse("compose_settings", args=["harbour"]),
            {"provider": "animatic", "size": "1792x1024", "seconds": "4", "platform": platform},
        )
        .content.decode()
    )
    assert f'value="{size}" checked' in panel
    assert ("isn&#x27;t a size video models render" in panel) == (platform == "1:1")


def test_every_ending_says_why_on_the_card_and_the_take_page(client_for, personas, workspace, shot):
    client = client_for(personas["viewer"])
    reasons = {
        Status.FAILED: "The provider couldn't render this take (boom).",
        Status.REFUSED: "The provider's moderation refused this shot (real people).",
        Status.EXPIRED: "The provider deleted the video before Slate could copy it.",
        Status.CANCELLED: "",  # cancelled here: no message stored, the default says it
    }
    for status, message in reasons.items():
        take = takes.queue_take(workspace, shot, provider="animatic", size="1280x720", seconds=4)
        Take.objects.filter(pk=take.pk).update(status=status, error_message=message)
        shown = message or "Cancelled. Nothing was kept or charged."
        studio = client.get(reverse("workspace", args=["harbour"])).content.decode()
        card = studio.split(f'id="take-card-{take.pk}"', 1)[1].split("</article>", 1)[0]
        assert shown.replace("'", "&#x27;") in card, status
        page = client.get(reverse("take", args=[take.pk])).content.decode()
        assert shown.replace("'", "&#x27;") in page, status
