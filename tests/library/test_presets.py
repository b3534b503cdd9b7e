"""Templates with variables, presets with versions and uses, export and import, and who may
do what."""

import html
import json

import pytest
from django.urls import reverse

from library import presets
from library.models import Preset, PresetVersion
from library.shot_templates import builtin, fill, variables_in
from studio.models import Membership

pytestmark = pytest.mark.django_db

SHOT = {
    "subject": "a {product} on a plinth",
    "camera": "slow orbit",
    "size": "1280x720",
    "seconds": "8",
    "provider": "animatic",
}


def membership(personas, role):
    return Membership.objects.get(user=personas[role], workspace__slug="harbour")


def test_the_built_in_templates_are_all_there_and_fill_in():
    assert set(builtin()) == {
        "product-showcase",
        "social-clip",
        "cinematic-establishing",
        "dialogue-scene",
        "nature-broll",
        "looping-background",
    }
    template = builtin()["product-showcase"]
    assert variables_in(template.fields) == ["product", "mood"]
    filled, errors = fill(template.fields, {"product": "a red kettle", "mood": "warm"})
    assert not errors and filled["subject"] == "a red kettle on a white cyclorama"
    _, errors = fill(template.fields, {"product": " "})
    assert errors == {"product": "Fill this in.", "mood": "Fill this in."}


def test_using_a_template_asks_for_its_variables_then_fills_the_composer(client, personas):
    client.force_login(personas["editor"])
    url = reverse("library:use_template", args=["harbour", "cinematic-establishing"])
    asked = client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert 'name="var_location"' in asked and 'id="composer"' not in asked
    missing = client.post(url, {"filled": "1", "var_location": "a harbour"}).content.decode()
    assert 'id="error-var-time_of_day"' in missing and 'id="composer"' not in missing
    done = client.post(
        url,
        {
            "filled": "1",
            "var_location": "a fishing village",
            "var_time_of_day": "blue hour",
            "var_weather": "sea mist",
        },
    ).content.decode()
    assert 'id="composer"' in done and 'hx-swap-oob="true"' in done
    assert "a fishing village</textarea>" in done and "blue hour light</textarea>" in done
    assert 'value="1792x1024" checked' in done  # the template's size comes along


def test_every_save_is_a_new_version(personas):
    editor = membership(personas, "editor")
    first = presets.save(editor, "Hero", SHOT, shared=True)
    second = presets.save(editor, "Hero", {**SHOT, "camera": "static"}, shared=True)
    assert (first.number, second.number) == (1, 2) and first.preset == second.preset
    assert second.preset.latest.fields["camera"] == "static"
    assert PresetVersion.objects.count() == 2


def test_using_a_preset_counts_and_fills_its_variables(client, personas):
    preset = presets.save(membership(personas, "editor"), "Hero", SHOT, shared=True).preset
    client.force_login(personas["owner"])
    url = reverse("library:use_preset", args=["harbour", preset.pk])
    client.post(url)  # asks for {product}: not used yet
    assert Preset.objects.get().uses == 0
    done = client.post(url, {"filled": "1", "var_product": "glass vase"}).content.decode()
    assert "a glass vase on a plinth</textarea>" in done
    assert Preset.objects.get().uses == 1


def test_personal_presets_are_private_and_shared_ones_are_read_only_for_viewers(client, personas):
    personal = presets.save(membership(personas, "editor"), "Mine", SHOT, shared=False).preset
    shared = presets.save(membership(personas, "editor"), "Ours", SHOT, shared=True).preset
    client.force_login(personas["viewer"])
    page = client.get(reverse("library:presets", args=["harbour"])).content.decode()
    assert "Ours" in page and "Mine" not in page
    assert client.get(reverse("library:preset", args=["harbour", personal.pk])).status_code == 404
    # Viewers use a shared preset (its prompt, to copy) but can't change or apply it.
    used = client.post(reverse("library:preset", args=["harbour", shared.pk])).content.decode()
    assert (
        "Subject: a {product} on a plinth." in used and Preset.objects.get(pk=shared.pk).uses == 1
    )
    assert (
        client.post(reverse("library:delete_preset", args=["harbour", shared.pk])).status_code
        == 403
    )
    assert (
        client.post(reverse("library:use_preset", args=["harbour", shared.pk])).status_code == 403
    )
    with pytest.raises(presets.PresetRefused, match="Viewers"):
        presets.save(membership(personas, "viewer"), "Ours", SHOT, shared=True)


def test_outsiders_see_nothing(client, personas):
    preset = presets.save(membership(personas, "editor"), "Ours", SHOT, shared=True).preset
    client.force_login(personas["outsider"])
    for url in (
        reverse("library:presets", args=["harbour"]),
        reverse("library:preset", args=["harbour", preset.pk]),
        reverse("library:export", args=["harbour"]),
    ):
        assert client.get(url).status_code == 404


def test_saving_from_the_composer(client, personas):
    client.force_login(personas["editor"])
    response = client.post(
        reverse("library:save_preset", args=["harbour"]),
        {**SHOT, "preset_name": "Kettle hero", "preset_shared": "on"},
    )
    assert "Saved “Kettle hero” (version 1)." in response.content.decode()
    assert Preset.objects.get().shared
    nameless = client.post(reverse("library:save_preset", args=["harbour"]), SHOT)
    assert "Give the preset a name." in nameless.content.decode() and Preset.objects.count() == 1


def test_export_then_import_round_trip(client, personas, workspace):
    editor = membership(personas, "editor")
    presets.save(editor, "Hero", SHOT, shared=True)
    presets.save(editor, "Hero", {**SHOT, "camera": "static"}, shared=True)
    client.force_login(personas["editor"])
    exported = client.get(reverse("library:export", args=["harbour"]))
    assert exported["Content-Disposition"].startswith("attachment")
    data = json.loads(exported.content)
    assert data["format"] == "slate-presets" and len(data["presets"][0]["versions"]) == 2
    Preset.objects.all().delete()
    client.force_login(personas["owner"])
    upload = _file(json.dumps(data))
    page = client.post(reverse("library:import", args=["harbour"]), {"file": upload})
    assert "Imported 1: “Hero”." in page.content.decode()
    preset = Preset.objects.get()
    assert preset.owner == personas["owner"] and preset.versions.count() == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "isn't JSON"),
        ('{"format": "other"}', "isn't a Slate presets file"),
        ('{"format": "slate-presets", "version": 9, "presets": []}', "version 1, not 9"),
        (
            '{"format": "slate-presets", "version": 1, "presets": [{"name": "A", "versions": '
            '[{"fields": {"subject": "ok"}}]}, {"name": "", "versions": '
            '[{"fields": {"subject": "x"}}]}]}',
            "Preset 2: Give the preset a name.",
        ),
        (
            '{"format": "slate-presets", "version": 1, "presets": [{"name": "A", "versions": '
            '[{"fields": {"subject": {"evil": 1}}}]}]}',
            "other than text",
        ),
        (" " * (3 * 1024 * 1024), "over 2 MB"),
        (" " * (9 * 1024 * 1024), "over 2 MB"),  # skipped while it streams in
    ],
)
def test_a_bad_import_says_why_and_imports_nothing(client, personas, content, message):
    client.force_login(personas["editor"])
    page = client.post(reverse("library:import", args=["harbour"]), {"file": _file(content)})
    assert page.status_code == 400 and message in html.unescape(page.content.decode())
    assert not Preset.objects.exists()  # all or nothing


def _file(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("presets.json", text.encode(), content_type="application/json")
