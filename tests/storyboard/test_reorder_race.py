"""Two people (ten, here) reordering one board at once, for real: threads in a Slate process
on SQLite's file (the suite's in-memory SQLite locks instead of waiting, so it can't host
the race). Every change is served in turn; positions stay a permutation, no card is lost
or doubled, and a drag built on a view someone changed since is refused."""

import json

import pytest

from tests.support.processes import make_install

pytestmark = pytest.mark.slow

RACE = """
import json, random, threading
from django.db import connection
from storyboard import boards
from storyboard.models import Board, Card
from studio.models import Workspace

workspace = Workspace.objects.create(name="Race", slug="race")
board = boards.create_board(workspace, "Race")
boards.add_cards(board, [{"subject": f"card {n}", "seconds": 4} for n in range(8)])
start = threading.Barrier(10)
done, stale = [], []

def person(seed):
    rng = random.Random(seed)
    try:
        start.wait()
        for _ in range(3):
            mine = Board.objects.get(pk=board.pk)
            order = list(mine.cards.values_list("pk", flat=True))
            if rng.random() < 0.5:
                card = Card.objects.select_related("board").get(pk=rng.choice(order))
                boards.move_card(card, rng.choice((-1, 1)))
            else:
                rng.shuffle(order)
                try:
                    boards.reorder(mine, order, mine.revision)
                except boards.StaleOrder:
                    stale.append(seed)
            done.append(seed)
    finally:
        connection.close()

threads = [threading.Thread(target=person, args=(n,)) for n in range(10)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({
    "changes": len(done),
    "positions": sorted(Card.objects.filter(board=board).values_list("position", flat=True)),
    "subjects": sorted(Card.objects.filter(board=board).values_list("subject", flat=True)),
}))
"""


def test_ten_people_reorder_one_board_at_once_on_sqlite(tmp_path):
    done = make_install(tmp_path / "var").manage("shell", "-v0", "-c", RACE)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["changes"] == 30
    assert result["positions"] == list(range(8))
    assert result["subjects"] == sorted(f"card {n}" for n in range(8))
