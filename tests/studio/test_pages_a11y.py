"""Every page, as a screen reader meets it: labels that say just their name, descriptions
that exist, links with names, errors marked on their fields; and error pages in the house
style."""

import json
import re
from html.parser import HTMLParser

from django.template.loader import render_to_string
from django.urls import reverse

from library import folders, shares
from storyboard import boards
from studio.models import Membership

VALID = {
    "subject": "a red fox",
    "camera": "truck left alongside",
    "provider": "animatic",
    "size": "1280x720",
    "seconds": "4",
}
VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Page(HTMLParser):
    """What the checks need from a page: ids, references, labels, links, controls."""

    def __init__(self, html: str):
        super().__init__()
        self.ids: list[str] = []
        self.references: list[tuple[str, str]] = []  # (attribute, id)
        self.labels: list[str] = []
        self.links: list[str] = []  # each link's accessible name as far as it goes
        self.invalid: list[str] = []  # names of controls marked aria-invalid
        self.tables: list[dict] = []  # each table's column headers' text and widest row
        self.open: list[tuple[str, dict]] = []
        self.texts: dict[int, list[str]] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        for name in ("aria-describedby", "aria-labelledby"):
            self.references += [(name, ref) for ref in (attrs.get(name) or "").split()]
        if attrs.get("aria-invalid") == "true":
            self.invalid.append(attrs.get("name") or attrs.get("aria-label") or tag)
        if tag == "img" and self._inside("a") and attrs.get("alt"):
            self._add_text(attrs["alt"])
        if tag == "table":
            self.tables.append({"headers": [], "widest": 0, "row": 0})
        elif tag == "tr" and self.tables:
            self.tables[-1]["row"] = 0
        elif tag in ("td", "th") and self.tables:
            self.tables[-1]["row"] += int(attrs.get("colspan") or 1)
            table = self.tables[-1]
            table["widest"] = max(table["widest"], table["row"])
        if tag not in VOID:
            self.open.append((tag, attrs))
            self.texts[len(self.open)] = []

    def handle_endtag(self, tag):
        if tag in VOID or not self.open:
            return
        while self.open:
            open_tag, attrs = self.open.pop()
            text = "".join(self.texts.pop(len(self.open) + 1))
            if open_tag == "label":
                self.labels.append(text)
            elif open_tag == "th" and self._inside("thead") and self.tables:
                self.tables[-1]["headers"].append(text.strip())
            elif open_tag == "a":
                self.links.append(attrs.get("aria-label") or text.strip())
            if self.open and open_tag not in ("select", "textarea", "option"):
                self._add_text(text)  # the parent's text includes its children's
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self.open:
            self.texts[len(self.open)].append(data)

    def _inside(self, tag: str) -> bool:
        return any(open_tag == tag for open_tag, _ in self.open)

    def _add_text(self, text: str) -> None:
        if self.open:
            self.texts[len(self.open)].append(text)


def check(html: str) -> Page:
    page = Page(html)
    missing = [(attr, ref) for attr, ref in page.references if ref not in page.ids]
    assert not missing, f"references to ids that don't exist: {missing}"
    untrimmed = [label for label in page.labels if label != " ".join(label.split())]
    assert not untrimmed, f"labels with stray whitespace: {untrimmed}"
    assert all(page.links), f"links without a name: {page.links}"
    for table in page.tables:
        headers = table["headers"]
        assert all(headers) and len(headers) >= table["widest"], (
            f"columns without a header: {table}"
        )
    duplicated = {i for i in page.ids if page.ids.count(i) > 1}
    assert not duplicated, f"ids used twice: {duplicated}"
    return page


def test_the_studio_with_a_finished_take(client_for, personas, rendered_take):
    html = client_for(personas["editor"]).get(reverse("workspace", args=["harbour"]))
    page = check(html.content.decode())
    assert "Subject" in page.labels and "Provider" in page.labels and "Seed" in page.labels
    assert f"Take #{rendered_take.pk}: lighthouse keeper (Completed)" in page.links


def test_the_studio_for_a_viewer_and_a_take_page(client_for, personas, rendered_take):
    client = client_for(personas["viewer"])
    check(client.get(reverse("workspace", args=["harbour"])).content.decode())
    check(client.get(reverse("take", args=[rendered_take.pk])).content.decode())


def test_the_composer_with_errors_marks_the_fields(client_for, personas):
    response = client_for(personas["editor"]).post(
        reverse("generate", args=["harbour"]),
        {**VALID, "seed": "-3", "size": "1x1", "motion": "m" * 4001},
        headers={"HX-Request": "true"},
    )
    page = check(response.content.decode())
    assert {"seed", "motion", "Size"} <= set(page.invalid)
    assert {"id_seed_error", "id_motion_error", "id_size_error"} <= set(page.ids)


def test_providers_and_presets(client_for, personas):
    client = client_for(personas["owner"])
    check(client.get(reverse("providers", args=["harbour"])).content.decode())
    bad = client.post(reverse("add_provider", args=["harbour"]), {"name": "x", "kind": "nope"})
    page = check(bad.content.decode())
    assert page.invalid
    check(client.get(reverse("library:presets", args=["harbour"])).content.decode())
    check(client.get(reverse("library:panel", args=["harbour"])).content.decode())


def test_log_in_and_sign_up_with_and_without_errors(client, db):
    check(client.get(reverse("login")).content.decode())
    check(client.get(reverse("signup")).content.decode())
    page = check(
        client.post(reverse("signup"), {"username": "", "password1": "x"}).content.decode()
    )
    assert {"username", "password2"} <= set(page.invalid)
    wrong = client.post(reverse("login"), {"username": "nobody", "password": "wrong"})
    html = wrong.content.decode()
    check(html)
    assert 'class="form-error" id="error-form" role="alert"' in html


def test_a_missing_page_is_a_styled_404(client_for, personas):
    response = client_for(personas["editor"]).get("/takes/999999/")
    html = response.content.decode()
    assert response.status_code == 404 and "slate.css" in html and "Nothing here" in html
    check(html)


def test_the_500_page_needs_no_request_and_is_styled():
    html = render_to_string("500.html")  # as Django's server_error view renders it
    assert "slate.css" in html and "Something went wrong" in html
    check(html)


def test_a_storyboard_its_card_editor_and_its_render_quote(client_for, personas, workspace):
    board = boards.create_board(workspace, "Harbour at dawn")
    card = boards.add_cards(board, [{"subject": "a gull", "seconds": 4}])[0]
    for persona in ("editor", "viewer"):
        client = client_for(personas[persona])
        check(client.get(reverse("storyboard:board", args=["harbour", board.pk])).content.decode())
        check(client.get(reverse("storyboard:card", args=["harbour", card.pk])).content.decode())
        check(client.get(reverse("storyboard:render", args=["harbour", board.pk])).content.decode())


def test_the_library_pages(client_for, personas, rendered_take):
    editor = Membership.objects.get(user=personas["editor"], workspace__slug="harbour")
    box = folders.create_folder(editor, "Client cut")
    folders.create_folder(editor, "Drafts", box)
    folders.file_takes([rendered_take], box)
    folders.tag_takes(editor.workspace, [rendered_take], "hero")
    client = client_for(personas["editor"])
    gallery = reverse("library:gallery", args=["harbour"])
    page = check(client.get(gallery).content.decode())
    assert (
        "Words in the prompt" in page.labels and f"Select take #{rendered_take.pk}" in page.labels
    )
    check(client.get(gallery, {"folder": box.pk, "q": "keeper"}).content.decode())
    check(client.post(reverse("library:create_folder", args=["harbour"])).content.decode())
    check(client.get(reverse("library:folder", args=["harbour", box.pk])).content.decode())
    made = client.post(reverse("library:shares", args=["harbour"]), {"take": rendered_take.pk})
    check(made.content.decode())
    _, token = shares.create(editor, folder=box, show_prompt=True, allow_download=True, review=True)
    client.logout()
    check(client.get(reverse("library_public:share", args=[token])).content.decode())
    check(client.get(reverse("library_public:share", args=["no-such-token" * 3])).content.decode())


def test_htmx_never_writes_a_style_attribute_the_csp_refuses(client_for, personas):
    """The CSP (style-src 'self') refuses inline styles, so htmx is told neither to inject its
    indicator styles nor to settle "style" (it would copy one with setAttribute)."""
    html = client_for(personas["editor"]).get(reverse("workspace", args=["harbour"])).content
    (config,) = re.findall(r"<meta name=\"htmx-config\" content='([^']*)'", html.decode())
    config = json.loads(config)
    assert config["includeIndicatorStyles"] is False
    assert "style" not in config["attributesToSettle"]
    csp = client_for(personas["editor"]).get(reverse("workspace", args=["harbour"]))
    assert "style-src 'self'" in csp["Content-Security-Policy"]
