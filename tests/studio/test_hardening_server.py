"""Hardening the server: bodies over the limit are refused before they are held in memory."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from asgiref.testing import ApplicationCommunicator

from studio.asgi import application
from studio.uploads import REFERENCE_LIMIT
from tests.conftest import REPO
from tests.support.processes import make_install

LIMIT = 100_000
MB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real `manage.py serve` on loopback whose body limit is LIMIT."""
    install = make_install(tmp_path_factory.mktemp("var"), SLATE_MAX_REQUEST_BYTES=str(LIMIT))
    url = install.serve()
    yield install, url.rsplit(":", 1)[1]
    install.stop()


def connect(port: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=30)
    sock.settimeout(30)  # generous for a busy machine; an answer normally comes at once
    return sock


def answer(sock: socket.socket) -> bytes:
    """What the server said before closing (whatever arrived before a reset)."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def head(port: str, length: int, **extra: str) -> bytes:
    lines = ["POST /login/ HTTP/1.1", f"Host: 127.0.0.1:{port}", *extra.values()]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def peak_rss(pid: int) -> int:
    """The process's high-water mark of resident memory, in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) * 1024


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(server):
    install, port = server
    with connect(port) as sock:
        started = time.monotonic()
        sock.sendall(head(port, 256 * MB))
        reply = answer(sock)  # the server closes without waiting for a byte of the body
    assert reply.startswith(b"HTTP/1.1 413 Content Too Large\r\n"), reply
    assert b"This request is larger than the limit of 0.1 MB." in reply
    assert time.monotonic() - started < 20


def test_an_expect_continue_client_is_told_413_and_never_invited(server):
    install, port = server
    with connect(port) as sock:
        sock.sendall(head(port, 256 * MB, expect="Expect: 100-continue"))
        reply = answer(sock)
    assert reply.startswith(b"HTTP/1.1 413 "), reply
    assert b"100 Continue" not in reply


def test_a_chunked_body_is_refused_once_it_passes_the_limit(server):
    install, port = server
    chunk = b"%x\r\n%s\r\n" % (16384, b"x" * 16384)
    with connect(port) as sock:
        sock.sendall(head(port, None, chunked="Transfer-Encoding: chunked"))
        try:
            # Past the limit, and never the last chunk: only a running count can answer this.
            for _ in range(4 * LIMIT // 16384):
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = answer(sock)
    assert reply.startswith(b"HTTP/1.1 413 ") or reply == b"", reply


def test_a_body_within_the_limit_still_reaches_the_studio(server):
    install, port = server
    body = b"username=nobody&password=" + b"x" * (LIMIT // 2)
    with connect(port) as sock:
        sock.sendall(head(port, len(body), form="Content-Type: application/x-www-form-urlencoded"))
        sock.sendall(body)
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 403 "), reply  # Django's CSRF check answered it


def test_eight_large_bodies_at_once_leave_memory_flat(server):
    install, port = server
    (process,) = install.processes[-1:]
    before = peak_rss(process.pid)
    size = 32 * MB

    def send(chunked: bool) -> None:
        block = b"x" * (256 * 1024)
        with connect(port) as sock:
            if chunked:
                sock.sendall(head(port, None, chunked="Transfer-Encoding: chunked"))
                block = b"%x\r\n%s\r\n" % (len(block), block)
            else:
                sock.sendall(head(port, size))
            try:
                for _ in range(size // len(block)):
                    sock.sendall(block)
            except (BrokenPipeError, ConnectionResetError):
                pass
            answer(sock)

    clients = [threading.Thread(target=send, args=(n % 2 == 0,)) for n in range(8)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    grown = peak_rss(process.pid) - before
    assert grown < 64 * MB, f"the server grew by {grown / MB:.0f} MB"


async def test_asgi_refuses_a_declared_length_over_the_limit_without_reading(settings):
    settings.SLATE_MAX_REQUEST_BYTES = LIMIT
    scope = asgi_post(headers=[(b"content-length", str(LIMIT + 1).encode())])
    app = ApplicationCommunicator(application, scope)  # no body is ever sent
    start = await app.receive_output(timeout=10)
    body = await app.receive_output(timeout=10)
    assert start["status"] == 413
    assert body["body"] == b"This request is larger than the limit of 0.1 MB.\n"


async def test_asgi_refuses_a_streamed_body_once_it_passes_the_limit(settings):
    settings.SLATE_MAX_REQUEST_BYTES = LIMIT
    app = ApplicationCommunicator(application, asgi_post(headers=[]))
    for _ in range(LIMIT // 16384 + 1):
        await app.send_input({"type": "http.request", "body": b"x" * 16384, "more_body": True})
    start = await app.receive_output(timeout=10)  # before the body ends
    assert start["status"] == 413


def asgi_post(headers):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/login/",
        "raw_path": b"/login/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


def reference_add(path: str, tmp_path) -> tuple[subprocess.CompletedProcess, int]:
    """`manage.py reference add PATH` run by a parent that reports the child's peak memory."""
    script = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)\n"
        "sys.stdout.write(done.stdout); sys.stderr.write(done.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(done.returncode)\n"
    )
    env = {**os.environ, "SLATE_VAR_DIR": str(tmp_path / "var")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, str(REPO / "manage.py"), "reference", "add", path]
    done = subprocess.run(
        [sys.executable, "-c", script, *command],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    *lines, peak = done.stderr.splitlines()
    done.stderr = "\n".join(lines) + "\n" if lines else ""
    return done, int(peak) * 1024


@pytest.mark.parametrize("kind", ["sparse 1 GB file", "/dev/zero"])
def test_reference_add_refuses_a_huge_file_without_reading_it(tmp_path, kind):
    path = "/dev/zero"
    if kind != "/dev/zero":
        path = str(tmp_path / "huge.png")
        with open(path, "wb") as handle:
            handle.truncate(1024 * MB)
    done, peak = reference_add(path, tmp_path)
    assert done.returncode == 2
    limit = f"{REFERENCE_LIMIT // MB} MB"
    assert done.stderr in (
        f"error: The image is 1024 MB; the limit is {limit}.\n",
        f"error: The image is over {limit}, the limit.\n",
    ), done.stderr
    assert peak < 200 * MB, f"peak memory {peak / MB:.0f} MB"
