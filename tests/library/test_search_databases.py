"""One search interface, two databases: the same questions get the same answers from SQLite's
FTS5 table and from PostgreSQL's full-text search (a real server, as scale-out runs it;
skipped loudly when none is running, failed under CI)."""

import json

import pytest
from django.db import connection

from library.search import search, uses_fts5
from studio.models import Take, Workspace
from tests.studio.test_scale_out import database_url  # noqa: F401 (a fixture)
from tests.support.processes import make_install

EXPECTED = {
    "fox": ["a red fox in the snow"],
    "fox snow": ["a red fox in the snow"],
    "DOLLY": ["a red fox in the snow"],  # another prompt field, any case
    "light": ["lighthouse keeper climbs the stairs"],  # a word's start
    "fox whale": [],
    'fox" OR *': [],  # every word must be there: "OR" is a word, never an operator
    "": ["a blue whale", "a red fox in the snow", "lighthouse keeper climbs the stairs"],
    "über": [],
}


def answers() -> dict:
    """Make a few takes, ask EXPECTED's questions; run here and in a PostgreSQL install."""
    workspace = Workspace.objects.create(name="Search", slug="search")
    other = Workspace.objects.create(name="Other", slug="other")
    for ws, prompt, camera in [
        (workspace, "a red fox in the snow", "slow dolly"),
        (workspace, "lighthouse keeper climbs the stairs", ""),
        (workspace, "a blue whale", "drone"),
        (other, "a red fox elsewhere", ""),
    ]:
        Take.objects.create(
            workspace=ws,
            composed_prompt=prompt,
            subject=prompt,
            camera=camera,
            size="1280x720",
            seconds=4,
            seed=1,
        )
    mine = Take.objects.filter(workspace=workspace)
    found = {q: sorted(t.subject for t in search(mine, q)) for q in EXPECTED}
    return {"vendor": connection.vendor, "fts5": uses_fts5(), "answers": found}


@pytest.mark.django_db
def test_search_on_sqlite_fts5():
    result = answers()
    assert (result["vendor"], result["fts5"]) == ("sqlite", True)
    assert result["answers"] == EXPECTED


ASK = """
import json
from tests.library.test_search_databases import answers, plan
print(json.dumps({**answers(), "plan": plan()}))
"""


def plan() -> str:
    """PostgreSQL's plan for a search, with sequential scans priced out (a few rows would
    otherwise never be worth an index)."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        query = search(Take.objects.all(), "fox snow").only("pk").query
        sql, params = query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.slow
def test_search_on_postgresql(tmp_path, database_url):  # noqa: F811
    install = make_install(tmp_path / "var", DATABASE_URL=database_url)
    done = install.manage("shell", "-v0", "-c", ASK)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["vendor"], result["fts5"]) == ("postgresql", False)
    assert result["answers"] == EXPECTED
    assert "library_take_text_gin" in result["plan"], result["plan"]  # the GIN index answers
