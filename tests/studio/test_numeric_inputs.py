"""Every numeric input answers odd numbers with a 4xx or a sentence, never a 500.

Unicode digits ("⁴".isdigit() is true, int("⁴") raises), numbers past the 4,300 digits
Python will read, NaN and infinity, signs and spaces."""

import contextlib
import io

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from studio import references, takes
from studio.engine import local
from studio.inputs import fraction, parse_size, whole_number
from tests.studio.test_cli import generate

ODD = st.one_of(
    st.sampled_from(["⁴", "²", "٣", "4⁴", "1e3", "-4", " 4 ", "4.0", "nan", "inf", "-inf", "0x10"]),
    st.integers(min_value=4301, max_value=6000).map(lambda n: "9" * n),
    st.text(alphabet=st.characters(categories=["Nd", "No", "Zs"]), min_size=1, max_size=8),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
PROPERTY = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@given(text=ODD)
@PROPERTY
def test_the_parsers_never_raise_on_odd_numbers(text):
    assert whole_number(text) is None or 0 <= whole_number(text) < 10**18
    assert 0.0 <= fraction(text) <= 1.0
    with contextlib.suppress(ValueError):
        parse_size(f"{text}x720")


@pytest.fixture
def editor(client, personas):
    client.force_login(personas["editor"])
    return client


@pytest.fixture
def rendered(workspace, shot):
    take = takes.queue_take(workspace, shot, provider="animatic", size="640x360", seconds=1)
    local.run_take(take.pk)
    return take


@pytest.fixture
def reference(workspace):
    out = io.BytesIO()
    Image.new("RGB", (640, 360), "teal").save(out, "JPEG")
    return references.add_reference(workspace, out.getvalue(), "teal.jpg")


FORM = {"subject": "a red fox", "provider": "animatic", "size": "1280x720", "sound": "on"}


@given(text=ODD)
@PROPERTY
def test_forms_answer_odd_numbers_with_a_sentence(editor, reference, text):
    for name in ("generate", "compose_settings", "reference_panel"):
        for field in ("seconds", "reference"):
            data = {**FORM, "seconds": "4", field: text}
            response = editor.post(reverse(name, args=["harbour"]), data)
            assert response.status_code < 500, (name, field, text)


@given(text=ODD)
@PROPERTY
def test_query_numbers_never_500(editor, reference, rendered, text):
    preview = reverse("reference_preview", args=["harbour", reference.pk])
    for url in (
        f"{preview}?focus_x={text}&focus_y={text}&pad_color={text}",
        f"{reverse('workspace', args=['harbour'])}?from={text}",
        f"{reverse('library:export', args=['harbour'])}?id={text}",
    ):
        assert editor.get(url).status_code < 500, url
    media = reverse("take_media", args=[rendered.pk, "video"])
    for header in (f"bytes={text}-", f"bytes=0-{text}", f"bytes=-{text}", f"bytes={text}-{text}"):
        response = editor.get(media, HTTP_RANGE=header)
        response.close()
        assert response.status_code in (200, 206, 416), header


@pytest.mark.parametrize("seconds", ["⁴", "9" * 5000, "nan", "-4"])
def test_the_cli_says_one_line_and_exits_2_for_odd_seconds(db, capsys, seconds):
    with pytest.raises(SystemExit) as exit_info:
        generate(capsys, "--subject", "a fox", "--seconds", seconds)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith("error: --seconds: Animatic preview (local, free) makes clips of 4, 8")
    assert err.count("\n") == 1 and len(err) < 300
