"""Reference images: every bad upload gets a sentence and leaves nothing; good ones come out
clean, upright, RGB and exactly the size asked for."""

import html
import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from studio import images, references
from studio.models import Reference, Take

pytestmark = pytest.mark.django_db


def picture(fmt="JPEG", size=(1600, 900), mode="RGB", colour="teal", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt, **save)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas: a decompression bomb's calling card."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def animated_webp() -> bytes:
    out = io.BytesIO()
    frames = [Image.new("RGB", (400, 300), c) for c in ("red", "blue")]
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    return out.getvalue()


def with_exif(orientation=6) -> bytes:
    image = Image.new("RGB", (1200, 800), "orange")
    exif = image.getexif()
    exif[0x0112] = orientation  # rotate 90° when shown
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"secret location notes")
    return out.getvalue()


def animated_png() -> bytes:
    out = io.BytesIO()
    frames = [Image.new("RGB", (400, 300), c) for c in ("red", "blue")]
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:], duration=100)
    return out.getvalue()


NOISY = Image.effect_noise((900, 600), 64).convert("RGB")  # pixels that don't compress away


def noisy(fmt: str) -> bytes:
    out = io.BytesIO()
    NOISY.save(out, fmt)
    return out.getvalue()


BAD = {
    "empty": (b"", "The file is empty."),
    "too big": (b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024 + 10), "the limit is 5 MB"),
    "bomb": (png_claiming(30000, 30000), "too many pixels"),
    "large canvas": (picture(size=(9000, 5000), quality=10), "the limit is 40 for JPEG."),
    "truncated": (picture(size=(2000, 1500), quality=95)[:20000], "cut short or damaged"),
    "animated": (animated_webp(), "Animated images aren't supported"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG"),
    "html": (b"<!DOCTYPE html><html><body>hi</body></html>", "web page"),
    "pdf": (b"%PDF-1.7\n1 0 obj<<>>endobj\n", "PDF document"),
    "gif": (picture("GIF", size=(400, 400), mode="P"), "GIFs aren't supported"),
    "text": (b"just some words", "isn't an image Slate can read"),
    "too small": (picture("PNG", size=(300, 200)), "the short side must be at least 256"),
    "long and thin": (picture(size=(3000, 200)), "3000×200; the short side must be at least"),
    "far too big": (b"\xff\xd8\xff" + b"\0" * (12 * 1024 * 1024), "over 5 MB"),
    "large png canvas": (png_claiming(6000, 5000), "the limit is 24 for PNG"),
    # 1 KB that would cost hundreds of MB to decode: refused from its header.
    "large webp canvas": (picture("WEBP", size=(4000, 2500), lossless=True), "the limit is 8"),
    "a sliver": (picture(size=(65000, 300), quality=10), "65000×300, more than 4 times as wide"),
    "png without its end": (noisy("PNG")[:-12], "cut short or damaged"),
    "png cut in its pixels": (noisy("PNG")[:300_000], "cut short or damaged"),
    "webp cut short": (noisy("WEBP")[:-200], "damaged"),
    "animated png": (animated_png(), "Animated images aren't supported"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_upload_gets_a_sentence_and_stores_nothing(client, personas, settings, case):
    data, message = BAD[case]
    client.force_login(personas["editor"])
    response = client.post(
        reverse("upload_reference", args=["harbour"]),
        {"upload": SimpleUploadedFile("holiday.png", data, "image/png")},
        headers={"HX-Request": "true"},
    )
    text = html.unescape(response.content.decode())
    assert response.status_code == 200 and 'id="error-reference"' in text and message in text
    assert not Reference.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_a_good_upload_is_cleaned_oriented_and_stripped(client, personas):
    client.force_login(personas["editor"])
    response = client.post(
        reverse("upload_reference", args=["harbour"]),
        {"upload": SimpleUploadedFile("IMG_0001.jpg", with_exif(), "image/jpeg")},
    )
    reference = Reference.objects.get()
    assert f'name="reference" value="{reference.pk}"' in response.content.decode()
    assert (reference.width, reference.height) == (800, 1200)  # turned upright
    with Image.open(reference.image.path) as stored:
        assert stored.mode == "RGB" and stored.size == (800, 1200)
        assert not stored.getexif() and "comment" not in stored.info and "exif" not in stored.info
    assert b"CameraMaker" not in Path(reference.image.path).read_bytes()
    assert b"secret location" not in Path(reference.image.path).read_bytes()


@pytest.mark.parametrize(
    ("data", "corner"),
    [
        (picture("JPEG", mode="CMYK", colour=(0, 0, 0, 0)), (255, 255, 255)),
        (picture("PNG", mode="L", colour=128), (128, 128, 128)),
        (picture("PNG", mode="RGBA", colour=(0, 0, 0, 0)), (255, 255, 255)),  # alpha on white
        (picture("PNG", mode="P", colour=3), None),
        (picture("WEBP", mode="RGB", colour=(10, 20, 30), lossless=True), (10, 20, 30)),
    ],
)
def test_every_colour_mode_becomes_rgb(workspace, data, corner):
    reference = references.add_reference(workspace, data, "x.png")
    with Image.open(reference.image.path) as stored:
        assert stored.mode == "RGB"
        if corner:
            assert all(
                abs(a - b) <= 3 for a, b in zip(stored.getpixel((5, 5)), corner, strict=True)
            )


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.png", "x" * 300 + ".png", "Ünïcødé 🎬 plan.png", "a\x00b\nc.png"]
)
def test_hostile_file_names_are_harmless(workspace, name):
    reference = references.add_reference(workspace, picture(), name)
    assert reference.image.name.startswith(f"references/{workspace.pk}/")
    assert ".." not in reference.image.name and "/" not in reference.label
    assert (
        len(reference.label) <= 80 and "\x00" not in reference.label and "\n" not in reference.label
    )


def test_fitting_crops_around_the_focus_or_pads(workspace):
    half = Image.new("RGB", (2000, 1000), "red")
    half.paste(Image.new("RGB", (1000, 1000), "blue"), (1000, 0))
    left = images.fit(half, 720, 1280, images.Fit(focus=(0.0, 0.5)))
    right = images.fit(half, 720, 1280, images.Fit(focus=(1.0, 0.5)))
    assert left.size == right.size == (720, 1280)
    assert left.getpixel((360, 640))[0] > 200 and right.getpixel((360, 640))[2] > 200
    padded = images.fit(half, 720, 1280, images.Fit(mode="pad", pad="colour", colour=(0, 255, 0)))
    assert padded.size == (720, 1280) and padded.getpixel((5, 5)) == (0, 255, 0)
    blurred = images.fit(half, 720, 1280, images.Fit(mode="pad"))
    assert blurred.size == (720, 1280) and blurred.getpixel((5, 5)) != (0, 0, 0)


def test_generate_with_an_uploaded_reference_sends_the_fitted_frame(client, personas, workspace):
    client.force_login(personas["editor"])
    reference = references.add_reference(workspace, picture(size=(2000, 2000)), "square.jpg")
    response = client.post(
        reverse("generate", args=["harbour"]),
        {
            "subject": "a teal wall",
            "provider": "animatic",
            "size": "720x1280",
            "seconds": "4",
            "reference": reference.pk,
            "fit": "pad",
            "pad": "colour",
            "pad_color": "#ff0000",
        },
    )
    assert response.status_code == 302
    take = Take.objects.get()
    with Image.open(take.reference.path) as frame:
        assert frame.size == (720, 1280)
        assert all(
            abs(a - b) <= 3 for a, b in zip(frame.getpixel((5, 5)), (255, 0, 0), strict=True)
        )
    assert take.reference_source == reference and take.reference_fit["mode"] == "pad"


def test_a_model_without_image_input_refuses_a_reference(client, personas, workspace, monkeypatch):
    from tests.support.engine import connect, simulator

    endpoint = connect(monkeypatch, workspace, simulator())
    endpoint.model_overrides = {"sora-2": {"image_reference": False}}
    endpoint.save()
    reference = references.add_reference(workspace, picture(), "x.jpg")
    client.force_login(personas["editor"])
    response = client.post(
        reverse("generate", args=["harbour"]),
        {
            "subject": "x",
            "provider": "sim",
            "model": "sora-2",
            "size": "1280x720",
            "seconds": "4",
            "reference": reference.pk,
        },
        headers={"HX-Request": "true"},
    )
    assert "takes no reference image" in response.content.decode() and not Take.objects.exists()


def test_outsiders_cannot_see_or_use_another_workspaces_reference(client, personas, workspace):
    reference = references.add_reference(workspace, picture(), "x.jpg")
    client.force_login(personas["outsider"])
    url = reverse("reference_preview", args=["harbour", reference.pk])
    assert client.get(url).status_code == 404
    own = reverse("reference_preview", args=["elsewhere", reference.pk])
    assert client.get(own).status_code == 404
    response = client.post(
        reverse("generate", args=["elsewhere"]),
        {
            "subject": "x",
            "provider": "animatic",
            "size": "1280x720",
            "seconds": "4",
            "reference": reference.pk,
        },
        headers={"HX-Request": "true"},
    )
    assert "That reference image is gone" in response.content.decode()
    assert not Take.objects.exists()


def test_the_preview_shows_the_fitted_first_frame(client, personas, workspace):
    reference = references.add_reference(workspace, picture(size=(1000, 1000)), "x.jpg")
    client.force_login(personas["viewer"])
    response = client.get(
        reverse("reference_preview", args=["harbour", reference.pk]),
        {"size": "720x1280", "fit": "crop"},
    )
    with Image.open(io.BytesIO(response.content)) as preview:
        assert preview.size == (270, 480)  # 9:16, small


def test_the_cli_adds_a_reference_or_exits_2(db, capsys, tmp_path):
    good = tmp_path / "still.webp"
    good.write_bytes(picture("WEBP", size=(800, 600)))
    call_command("reference", "add", str(good), "--json")
    printed = json.loads(capsys.readouterr().out)
    assert (printed["width"], printed["height"], printed["format"]) == (800, 600, "WEBP")
    bad = tmp_path / "photo.png"
    bad.write_bytes(BAD["pdf"][0])
    with pytest.raises(SystemExit) as exit_info:
        call_command("reference", "add", str(bad))
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "PDF" in err
    assert Reference.objects.count() == 1
