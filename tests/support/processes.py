"""Real Slate processes for tests: migrate, serve, worker, generate, each on its own data."""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MANAGE = [sys.executable, str(REPO / "manage.py")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Install:
    """One Slate install: its environment, and the processes started from it."""

    def __init__(self, var: Path, **env: str):
        self.var = var
        self.env = {**os.environ, "SLATE_VAR_DIR": str(var), **env}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.processes: list[subprocess.Popen] = []

    def manage(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*MANAGE, *args],
            env={**self.env, **env},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=180,
        )

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        log = (self.var / f"{args[0]}-{len(self.processes)}.log").open("w")
        process = subprocess.Popen(
            [*MANAGE, *args], env={**self.env, **env}, cwd=REPO, stdout=log, stderr=log
        )
        process.log_path = Path(log.name)
        log.close()
        self.processes.append(process)
        return process

    def worker(self, **env: str) -> subprocess.Popen:
        """A worker process, returned once it is taking tasks (its start, not a guess)."""
        worker = self.start("worker", **env)
        deadline = time.monotonic() + 120  # a busy machine starts Django slowly
        while "Worker started" not in worker.log_path.read_text():
            if time.monotonic() > deadline or worker.poll() is not None:
                pytest.fail("the worker did not start:\n" + worker.log_path.read_text())
            time.sleep(0.05)
        return worker

    def serve(self, port: int | None = None, **env: str) -> str:
        port = port or free_port()
        server = self.start("serve", "--port", str(port), **env)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120  # a busy machine starts Django slowly
        while True:
            try:
                urllib.request.urlopen(f"{url}/login/", timeout=1).close()
                return url
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("the studio did not start:\n" + server.log_path.read_text())
                time.sleep(0.2)

    def logs(self, about: str = "") -> str:
        """The tail of every process's log (only lines containing ``about`` when given), for
        a failing assertion to show; workers first print what each thread is doing."""
        for process in self.processes:
            if process.poll() is None and "worker" in process.args:
                process.send_signal(signal.SIGUSR1)
        time.sleep(0.5)
        texts = []
        for process in self.processes:
            text = process.log_path.read_text()
            if about:
                text = "\n".join(line for line in text.splitlines() if about in line)
            texts.append(f"--- {process.log_path.name}\n{text[-12000:]}")
        return "\n".join(texts)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


_migrated: Path | None = None


def migrated_sqlite() -> Path:
    """A data folder freshly migrated by ``manage.py migrate``, once per test session: an
    install copies it instead of migrating (which takes seconds, many on a busy machine)."""
    global _migrated
    if _migrated is None:
        folder = Path(tempfile.mkdtemp(prefix="slate-migrated-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        done = Install(folder).manage("migrate", "-v0")
        assert done.returncode == 0, done.stderr
        _migrated = folder
    return _migrated


def make_install(var: Path, **env: str) -> Install:
    """An install on a migrated database: its own copy of the session's migrated SQLite
    file, or, on another database (``DATABASE_URL``), migrated there."""
    install = Install(var, **env)
    if "DATABASE_URL" in install.env:
        var.mkdir(parents=True, exist_ok=True)
        migrated = install.manage("migrate", "-v0")
        assert migrated.returncode == 0, migrated.stderr
    else:
        shutil.copytree(migrated_sqlite(), var, dirs_exist_ok=True)
    return install


LOGIN_SCRIPT = """
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from studio import workspaces
user = get_user_model().objects.create_user("{username}", password="x-{username}-x1")
workspace = workspaces.onboard(user)
session = SessionStore()
session.update({{"_auth_user_id": str(user.pk),
    "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
    "_auth_user_hash": user.get_session_auth_hash()}})
session.create()
print(session.session_key, workspace.slug)
"""


def signed_in(install: Install, username: str) -> tuple[str, str]:
    """A user with a workspace; returns (session cookie value, workspace slug)."""
    done = install.manage("shell", "-v0", "-c", LOGIN_SCRIPT.format(username=username))
    assert done.returncode == 0, done.stderr
    session_key, slug = done.stdout.split()[-2:]
    return session_key, slug
