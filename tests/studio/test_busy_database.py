"""One long writer can't fail other people's work: a busy database is waited out, retried
or answered with "busy, try again"; a presets import is bounded and written quickly."""

import pytest
from django.db import OperationalError
from django.urls import reverse

from library import presets
from library.models import Preset, PresetVersion
from studio import ledger, takes
from studio.engine import advance, calls, local
from studio.models import LedgerEntry, Status
from studio.prompts import Shot
from tests.support.engine import connect, drive, simulator

LOCKED = OperationalError("database is locked")


def once(real, error=LOCKED):
    """``real``, except that its first call meets a busy database."""
    calls_made = []

    def flaky(*args, **kwargs):
        calls_made.append(1)
        if len(calls_made) == 1:
            raise error
        return real(*args, **kwargs)

    return flaky


def test_a_render_that_meets_a_busy_database_still_completes(workspace, shot, monkeypatch):
    take = takes.queue_take(workspace, shot, provider="animatic", size="640x360", seconds=1)
    monkeypatch.setattr(local, "PROGRESS_INTERVAL", 0)
    monkeypatch.setattr(local, "heartbeat", once(local.heartbeat))
    assert advance.advance(take.pk) == Status.COMPLETED
    take.refresh_from_db()
    assert take.status == Status.COMPLETED and take.attempts == 1  # the busy try wasn't counted
    assert ledger.unbalanced_takes() == []


@pytest.mark.django_db(transaction=True)
def test_a_provider_step_that_meets_a_busy_database_is_retried_not_failed(workspace, monkeypatch):
    sim = simulator()
    connect(monkeypatch, workspace, sim)
    take = takes.queue_take(
        workspace,
        Shot(subject="a paper boat"),
        provider="sim",
        model="sora-2",
        size="1280x720",
        seconds=4,
    )
    monkeypatch.setattr(calls, "client", once(calls.client))
    drive(sim)
    take.refresh_from_db()
    assert take.status == Status.COMPLETED and len(sim.creates) == 1
    assert take.lease_losses == 0  # handed back at once, not lost to the sweep
    assert LedgerEntry.objects.filter(take=take, kind="charge").count() == 1


def test_a_view_that_meets_a_busy_database_says_busy_try_again(client, personas, monkeypatch):
    client.force_login(personas["editor"])
    monkeypatch.setattr(presets, "save", once(presets.save))
    data = {"preset_name": "Dusk", "subject": "a lighthouse", "provider": "animatic"}
    response = client.post(reverse("library:save_preset", args=["harbour"]), data)
    assert response.status_code == 503 and response["Retry-After"]
    assert "busy" in response.content.decode() and "try again" in response.content.decode()
    assert not Preset.objects.exists()
    assert client.post(reverse("library:save_preset", args=["harbour"]), data).status_code < 400


def export_of(presets_in_file: int, versions_each: int) -> dict:
    return {
        "format": "slate-presets",
        "version": 1,
        "presets": [
            {
                "name": f"Preset {p}",
                "versions": [
                    {"fields": {"subject": f"shot {p}.{v}"}, "settings": {"seconds": "4"}}
                    for v in range(versions_each)
                ],
            }
            for p in range(presets_in_file)
        ],
    }


@pytest.mark.parametrize(
    ("presets_in_file", "versions_each", "message"),
    [
        (1, 20_000, "Preset 1 has 20,000 versions; at most 50"),
        (201, 1, "At most 200 presets at a time; this file has 201"),
        (100, 11, "At most 1,000 versions in one file; this one has 1,100"),
    ],
)
def test_a_huge_presets_import_is_refused_whole(
    personas, workspace, presets_in_file, versions_each, message
):
    from studio.models import Membership

    membership = Membership.objects.get(user=personas["editor"], workspace=workspace)
    with pytest.raises(presets.PresetRefused, match=message):
        presets.import_presets(membership, export_of(presets_in_file, versions_each))
    assert not Preset.objects.exists() and not PresetVersion.objects.exists()


def test_an_import_at_the_bounds_is_written_in_a_handful_of_queries(
    personas, workspace, django_assert_max_num_queries
):
    from studio.models import Membership

    membership = Membership.objects.get(user=personas["editor"], workspace=workspace)
    with django_assert_max_num_queries(20 * 8 + 10):  # a few per preset, none per version
        presets.import_presets(membership, export_of(20, 50))
    assert PresetVersion.objects.count() == 1000
