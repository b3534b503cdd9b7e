"""The rating sort pages the same on both databases: the members' average as a whole-number
rank, ties by id, unrated takes last, keyset cursors that hold the exact value compared (a
real PostgreSQL server, as scale-out runs it; skipped loudly when none is running)."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from library import gallery
from library.models import Review
from studio.models import Take, Workspace
from tests.studio.test_scale_out import database_url  # noqa: F401 (a fixture)
from tests.support.processes import make_install

# subject: the ratings it gets; averages of thirds and sevenths don't round-trip as floats
RATINGS = {
    "five": [5],
    "thirds high": [4, 3, 3],  # 3.333…
    "thirds low": [3, 3, 4],  # the same average: the newer first
    "sevenths": [5, 5, 4, 3, 3, 2, 1],  # 3.285714…
    "one": [1],
    "unrated": [],
    "passes only": [None],  # reviewed, no stars
}
EXPECTED = ["five", "thirds low", "thirds high", "sevenths", "one", "passes only", "unrated"]


def rating_pages(page_size: int = 2) -> dict:
    """Make takes with RATINGS, then page through the rating sort ``page_size`` at a time."""
    workspace = Workspace.objects.create(name="Ratings", slug="ratings")
    people = [get_user_model().objects.create(username=f"rater{i}") for i in range(7)]
    for subject, ratings in RATINGS.items():
        take = Take.objects.create(
            workspace=workspace, subject=subject, size="1280x720", seconds=4, seed=1
        )
        for person, rating in zip(people, ratings, strict=False):
            Review.objects.create(take=take, reviewer=person, rating=rating)
    size, gallery.PAGE_SIZE = gallery.PAGE_SIZE, page_size
    try:
        seen, after, pages = [], "", 0
        while True:
            found = gallery.page(workspace, None, gallery.Filters(sort="rating"), after)
            assert not found["bad_cursor"]
            seen += [t.subject for t in found["takes"]]
            pages += 1
            if not (after := found["next"]):
                break
    finally:
        gallery.PAGE_SIZE = size
    return {"vendor": connection.vendor, "order": seen, "pages": pages}


@pytest.mark.django_db
def test_rating_sort_on_sqlite():
    result = rating_pages()
    assert result == {"vendor": "sqlite", "order": EXPECTED, "pages": 4}


ASK = """
import json
from tests.library.test_rating_sort_databases import rating_pages
print(json.dumps(rating_pages()))
"""


@pytest.mark.slow
def test_rating_sort_on_postgresql(tmp_path, database_url):  # noqa: F811
    install = make_install(tmp_path / "var", DATABASE_URL=database_url)
    done = install.manage("shell", "-v0", "-c", ASK)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"vendor": "postgresql", "order": EXPECTED, "pages": 4}
