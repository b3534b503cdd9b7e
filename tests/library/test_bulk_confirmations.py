"""After a bulk action the gallery says what was done, in words that name the folder, the
tags and how many takes; a refused action says why and confirms nothing."""

import pytest
from django.urls import reverse

from library.models import Folder

from .helpers import make_take

pytestmark = pytest.mark.django_db


def bulk(client, action, takes, **extra):
    data = {"action": action, "take": [t.pk for t in takes], **extra}
    return client.post(reverse("library:bulk", args=["harbour"]), data, follow=True)


def said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_each_bulk_action_confirms_what_it_did(personas, workspace, client_for):
    a, b, c = (make_take(workspace, name) for name in "abc")
    box = Folder.objects.create(workspace=workspace, name="Harbour cuts")
    client = client_for(personas["editor"])
    moved = bulk(client, "move", [a, b, c], folder=box.pk)
    assert moved.status_code == 200
    assert said(moved) == ["Moved 3 takes to “Harbour cuts”."]
    assert "Moved 3 takes to “Harbour cuts”." in moved.content.decode()
    assert said(bulk(client, "move", [a], folder="")) == ["Unfiled 1 take."]
    tagged = bulk(client, "tag", [a, b], tags="night, Hero")
    assert said(tagged) == ["Tagged 2 takes #night, #Hero."]
    assert said(bulk(client, "star", [a])) == ["Starred 1 take."]
    assert said(bulk(client, "unstar", [a])) == ["Unstarred 1 take."]
    assert said(bulk(client, "trash", [b, c])) == [
        "Moved 2 takes to the trash; Trash can restore them."
    ]
    assert said(bulk(client, "restore", [b, c])) == ["Restored 2 takes from the trash."]
    # Shown once: the next page has no leftover confirmation.
    assert said(client.get(reverse("library:gallery", args=["harbour"]))) == []


def test_a_card_dropped_on_a_folder_gets_its_confirmation_in_the_swapped_results(
    personas, workspace, client_for
):
    take = make_take(workspace)
    box = Folder.objects.create(workspace=workspace, name="Box")
    client = client_for(personas["editor"])
    # htmx follows the redirect and swaps in only #gallery-results: the message must be there.
    page = bulk(client, "move", [take], folder=box.pk, back="").content.decode()
    results = page[page.index('id="gallery-results"') :]
    assert "Moved 1 take to “Box”." in results


def test_a_refused_bulk_action_confirms_nothing(personas, workspace, client_for):
    take = make_take(workspace)
    client = client_for(personas["editor"])
    refused = bulk(client, "tag", [take], tags=" , ")
    assert refused.status_code == 400 and said(refused) == []
