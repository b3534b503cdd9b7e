"""`manage.py serve` refuses a port that is taken, before it claims to be running."""

import os
import socket
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.fixture
def taken_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other_server:
        other_server.bind(("127.0.0.1", 0))
        other_server.listen()
        yield other_server.getsockname()[1]


def serve(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "serve", *args],
        env={**os.environ, "SLATE_VAR_DIR": str(tmp_path / "var")},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,  # bounds only a run going wrong
    )


def test_a_taken_port_fails_in_one_line_without_the_banner(tmp_path, taken_port):
    done = serve(tmp_path, "--port", str(taken_port))
    assert done.returncode != 0
    assert (
        f"Port {taken_port} on 127.0.0.1 is already in use; stop the other server "
        f"or run `make run PORT={taken_port + 1}`" in done.stderr
    )
    assert done.stderr.count("\n") == 1
    assert "running at" not in done.stdout + done.stderr
