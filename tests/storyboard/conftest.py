from pathlib import Path

import pytest
from django.core.files import File

from storyboard import boards
from storyboard.models import Board, CardTake
from studio.animatic.render import AnimaticSpec, render_animatic
from studio.media import probe
from studio.models import Status, Take
from studio.providers import endpoints


@pytest.fixture
def board(workspace):
    return boards.create_board(workspace, "Harbour at dawn", size="1280x720")


@pytest.fixture
def priced(board, cards):
    """The board renders on a gateway's Sora 2 at $0.10 a second (nothing is sent in tests)."""
    endpoints.add_endpoint(
        board.workspace,
        name="gw",
        kind="openai",
        base_url="https://gw.example/v1",
        api_key="sk-test-123456",
        models=["sora-2"],
    )
    board.provider, board.model = "gw", "sora-2"
    board.save()
    return board


@pytest.fixture
def cards(board):
    """Three cards of 4 s: a keeper, a gull and the lamp."""
    return boards.add_cards(
        board,
        [
            {"subject": "lighthouse keeper", "motion": "climbs the stairs", "seconds": 4},
            {"subject": "a gull", "camera": "tracking shot", "seconds": 4},
            {"subject": "the lamp", "motion": "turns on", "seconds": 4},
        ],
    )


def small_video(path: Path, seconds: int, *, width=320, height=180, seed=1) -> Path:
    render_animatic(AnimaticSpec(width, height, seconds, seed, subject="card"), path)
    return path


@pytest.fixture
def finished_take(tmp_path):
    """A completed take with a real small MP4 (the animatic at 320x180), linked to a card
    and chosen for it, made by the card's board's provider and model."""
    made, videos = [], {}

    def make(card, seconds: int = 1, *, width=320, height=180, choose=True) -> Take:
        shape = (seconds, width, height)
        if shape not in videos:  # one encode per shape: the bytes are the same anyway
            videos[shape] = small_video(
                tmp_path / f"{seconds}-{width}x{height}.mp4", seconds, width=width, height=height
            )
        path = videos[shape]
        made_on = Board.objects.get(pk=card.board_id)  # as saved, whatever card.board says
        take = Take.objects.create(
            workspace=card.board.workspace,
            provider=made_on.provider,
            model=made_on.model,
            subject=card.subject,
            composed_prompt=card.subject,
            size=f"{width}x{height}",
            seconds=seconds,
            seed=1,
            status=Status.COMPLETED,
            progress=100,
            probe=probe(path),
        )
        with path.open("rb") as handle:
            take.video.save(f"take-{take.pk}.mp4", File(handle))
        CardTake.objects.create(card=card, take=take)
        if choose:
            boards.choose(card, take.pk)
        made.append(take)
        return take

    return make


def fresh(board: Board) -> Board:
    found = Board.objects.select_related("workspace").get(pk=board.pk)
    return found
