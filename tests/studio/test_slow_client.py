"""A client that stops reading a long download holds the server to what the socket buffers:
`manage.py serve` sends a streamed response no faster than it is read (studio/httpserver.py),
instead of reading the whole file into memory behind a slow client."""

import os
import socket
import struct
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.processes import make_install, signed_in

pytestmark = pytest.mark.slow

MB = 1024 * 1024
BIG = 160 * MB
MAKE = """
import os
from django.core.files.base import File
from studio.models import Status, Take, Workspace
take = Take.objects.create(workspace=Workspace.objects.get(slug="{slug}"), subject="a long take",
    composed_prompt="a long take", provider="animatic", size="1280x720", seconds=4, seed=1,
    status=Status.COMPLETED)
with open("{path}", "rb") as handle:
    take.video.save("big.mp4", File(handle), save=True)
print(take.pk, take.video.path)
"""


def position(pid: int, path: str) -> int:
    """How far the server has read the file at ``path``: its descriptor's offset. The file
    is open while the response is under way, so once it is closed it was read to its end."""
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd) == path:
                info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
                return int(info.split("pos:")[1].split()[0])
        except (FileNotFoundError, IndexError):
            continue
    return BIG


def serve_big_take(install, path: Path) -> tuple[str, str, str, object, str]:
    """(session, take id, stored path, server process, url): ``install`` serving a take
    whose video is the file at ``path``, to a signed-in member."""
    session, slug = signed_in(install, "mara")
    made = install.manage("shell", "-v0", "-c", MAKE.format(slug=slug, path=path))
    assert made.returncode == 0, made.stderr
    take_id, stored = made.stdout.split()[-2:]
    url = install.serve()
    return session, take_id, stored, install.processes[-1], url


def start_download(port: int, take_id: str, session: str) -> tuple[socket.socket, bytes]:
    """A socket with a small receive buffer that asked for the whole video and read the
    headers and its first megabyte, then no more."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(
        f"GET /takes/{take_id}/video/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Cookie: sessionid={session}\r\n\r\n".encode()
    )
    got = b""
    while len(got) < MB:
        got += sock.recv(256 * 1024)
    assert got.startswith(b"HTTP/1.1 200")
    return sock, got


def test_a_client_that_stops_reading_stops_the_server_reading(tmp_path):
    install = make_install(tmp_path / "var")
    try:
        big = tmp_path / "big.bin"
        with big.open("wb") as handle:
            block = os.urandom(MB)
            for _ in range(BIG // MB):
                handle.write(block)
        session, take_id, path, server, url = serve_big_take(install, big)
        sock, got = start_download(int(url.rsplit(":", 1)[1]), take_id, session)
        with sock:
            # Watch the server while the client reads nothing: it settles once the socket's
            # buffers are full (no change for 2 s), or it reads on through the whole file.
            seen, steady_since = position(server.pid, path), time.monotonic()
            deadline = time.monotonic() + 120
            while time.monotonic() - steady_since < 2.0 and time.monotonic() < deadline:
                time.sleep(0.2)
                now = position(server.pid, path)
                if now != seen:
                    seen, steady_since = now, time.monotonic()
                if now > BIG // 2:
                    break
            assert seen < 16 * MB, f"the server read {seen // MB} MB into the file"
            # And the rest still arrives, whole, once the client reads again.
            body = len(got) - got.index(b"\r\n\r\n") - 4
            sock.settimeout(120)
            while body < BIG and (piece := sock.recv(1024 * 1024)):
                body += len(piece)
        assert body == BIG
    finally:
        install.stop()
    assert "Producer was not unregistered" not in install.logs()


def open_files(pid: int, path: str) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd) == path
        except FileNotFoundError:
            continue
    return count


def test_a_client_that_leaves_mid_download_is_no_error(tmp_path):
    """Leaving mid-download (a closed tab, a seek that drops the request) is a normal event:
    the server closes the file and logs no traceback, whether the client left while the
    bytes flowed or while the server waited on its full socket, politely or with a reset."""
    install = make_install(tmp_path / "var")
    try:
        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(32 * MB))
        session, take_id, path, server, url = serve_big_take(install, big)
        port = int(url.rsplit(":", 1)[1])
        for reset, wait_for_full_socket in [(False, False), (True, False), (True, True)]:
            sock, _ = start_download(port, take_id, session)
            with sock:
                if wait_for_full_socket:  # the server stops reading the file: it waits on us
                    seen, steady_since = position(server.pid, path), time.monotonic()
                    deadline = time.monotonic() + 60
                    while time.monotonic() - steady_since < 1.0 and time.monotonic() < deadline:
                        time.sleep(0.1)
                        if (now := position(server.pid, path)) != seen:
                            seen, steady_since = now, time.monotonic()
                if reset:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # The response is over once the server has closed the file.
            deadline = time.monotonic() + 60
            while open_files(server.pid, path):
                assert time.monotonic() < deadline, "the server kept the file open"
                time.sleep(0.05)
        with urllib.request.urlopen(f"{url}/login/", timeout=30) as response:
            assert response.status == 200  # and it serves on
    finally:
        install.stop()
    logs = install.logs()
    assert "Traceback" not in logs and "Exception inside application" not in logs, logs
    assert "CurrentThreadExecutor" not in logs, logs
