"""People racing for an invite's last uses, for real: threads in a Slate process, on SQLite's
file and on PostgreSQL (the suite's in-memory SQLite locks instead of waiting, so it can't
host the race)."""

import json

import pytest

from tests.studio.test_scale_out import database_url  # noqa: F401 (a fixture)
from tests.support.processes import make_install

pytestmark = pytest.mark.slow

RACE = """
import json, threading
from django.contrib.auth import get_user_model
from django.db import connection
from studio.models import Membership, Role, Workspace
from teams import invites
from teams.models import AuditEntry, Refused

workspace = Workspace.objects.create(name="Race", slug="race")
invite = invites.create_invite(workspace, role=Role.EDITOR, uses=3)
people = [get_user_model().objects.create_user(f"racer{n}") for n in range(20)]
start = threading.Barrier(len(people))
joined, refused = [], []

def race(user):
    try:
        start.wait()
        invites.accept(invite.token, user)
        joined.append(user.pk)
    except Refused as error:
        refused.append(str(error))
    finally:
        connection.close()

threads = [threading.Thread(target=race, args=(user,)) for user in people]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
invite.refresh_from_db()
print(json.dumps({
    "joined": len(joined),
    "refused": sorted(set(refused)),
    "uses": invite.uses,
    "members": Membership.objects.filter(workspace=workspace).count(),
    "accepted_entries": AuditEntry.objects.filter(action="invite_accepted").count(),
}))
"""


def race(install) -> dict:
    done = install.manage("shell", "-v0", "-c", RACE)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def check(result: dict) -> None:
    assert result["joined"] == result["uses"] == result["members"] == 3, result
    assert result["accepted_entries"] == 3
    assert result["refused"] == [
        "This invite has been used up. Ask an owner of the workspace for a new one."
    ]


def test_twenty_people_race_for_three_uses_on_sqlite(tmp_path):
    check(race(make_install(tmp_path / "var")))


def test_twenty_people_race_for_three_uses_on_postgresql(tmp_path, database_url):  # noqa: F811
    check(race(make_install(tmp_path / "var", DATABASE_URL=database_url)))
