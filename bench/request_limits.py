"""Peak memory of the server while 8 anonymous clients each send a 256 MiB body to /login/.

A fresh install served by `manage.py serve` with the default SLATE_MAX_REQUEST_BYTES; the
figure is the growth of the server process's peak resident set (VmHWM) over the run. With
``--unlimited`` the same run also goes to daphne's own command line with the limit raised past
the bodies, which is what every server did before the limit (it needs about 2.5 GB free).

    .venv/bin/python bench/request_limits.py [--unlimited]
"""

import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import table  # noqa: E402
from tests.support.processes import REPO, free_port, make_install  # noqa: E402

MB = 1024 * 1024
CLIENTS = 8
BODY = 256 * MB


def peak_rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) * 1024


def send(port: int, chunked: bool, outcome: list) -> None:
    block = b"x" * (256 * 1024)
    head = f"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if chunked:
        head += "Transfer-Encoding: chunked\r\n\r\n"
        block = b"%x\r\n%s\r\n" % (len(block), block)
    else:
        head += f"Content-Length: {BODY}\r\n\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=600) as sock:
        sock.sendall(head.encode())
        try:
            while sent < BODY:
                sock.sendall(block)
                sent += 256 * 1024
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass
        try:
            reply = sock.recv(64)
        except OSError:
            reply = b""
    outcome.append((reply.split(b"\r\n")[0].decode() or "connection closed", sent))


def run(port: int, pid: int, chunked: bool) -> list:
    before = peak_rss(pid)
    outcome: list = []
    started = time.monotonic()
    clients = [threading.Thread(target=send, args=(port, chunked, outcome)) for _ in range(CLIENTS)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    seconds = time.monotonic() - started
    after = peak_rss(pid)
    answers = sorted({answer for answer, _ in outcome})
    sent = max(sent for _, sent in outcome)
    return [
        "chunked" if chunked else "Content-Length",
        f"{before / MB:.0f} MB",
        f"{after / MB:.0f} MB",
        f"{(after - before) / MB:.0f} MB",
        f"{sent / MB:.0f} MB",
        f"{seconds:.1f} s",
        ", ".join(answers),
    ]


def daphne_cli(install, port: int) -> subprocess.Popen:
    """daphne's own command line, which only the ASGI middleware limits (after buffering)."""
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(
        [*command, "studio.asgi:application"],
        env={**install.env, "DJANGO_SETTINGS_MODULE": "studio.settings"},
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1).close()
            return process
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("daphne did not start") from None
            time.sleep(0.2)


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as var:
        install = make_install(Path(var) / "serve")
        port = int(install.serve().rsplit(":", 1)[1])
        server = install.processes[-1]
        for chunked in (False, True):
            rows.append(["manage.py serve", *run(port, server.pid, chunked)])
        install.stop()
        if "--unlimited" in sys.argv:
            install = make_install(Path(var) / "daphne", SLATE_MAX_REQUEST_BYTES=str(2 * BODY))
            for chunked in (False, True):
                port = free_port()
                server = daphne_cli(install, port)
                rows.append(["daphne CLI, no limit", *run(port, server.pid, chunked)])
                server.terminate()
                server.wait(30)
    print(f"Server peak memory while {CLIENTS} clients each send {BODY // MB} MiB to /login/\n")
    headers = ["server", "body", "peak before", "peak after", "growth", "sent", "time", "answer"]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
