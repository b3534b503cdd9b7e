"""One server process under load: the studio page and 64 KiB media Range requests.

A fresh install in a temp SLATE_VAR_DIR gets a member and 20 takes rendered by the animatic
(the embedded worker of `manage.py serve`). Then each checkout under test is served from a copy
of that data with its own `manage.py serve` on a free loopback port, and asyncio clients (one
keep-alive connection each, a new request as soon as the last answer is read) load it for a
while: the studio page alone, Range requests alone, and both at once. With ``--base PATH`` (a
`git worktree` of the commit to compare with) both servers run at once and each row is run on
the base, then on this checkout, so a load that drifts weighs on both; the last table shows
the ratios.

Last, what one live push costs with channels-redis (REDIS_URL, default
redis://127.0.0.1:6379/15): each checkout's own ``studio.live.send``, timed in a process of
its own, and how many Redis connections it opened.

    .venv/bin/python bench/load.py [--base /tmp/slate-base] [--seconds 12]
"""

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import percentile, table  # noqa: E402
from tests.support.processes import REPO, free_port, make_install, signed_in  # noqa: E402

TAKES = 20
RANGE_BYTES = 64 * 1024
PUSHES = 300

QUEUE_TAKES = """
from django.contrib.auth import get_user_model
from studio import takes
from studio.models import Workspace
from studio.prompts import Shot
workspace = Workspace.objects.get(slug="{slug}")
for n in range({count}):
    takes.queue_take(workspace, Shot(subject=f"load bench take {{n}}"), provider="animatic",
                     size="1280x720", seconds=4)
"""


def prepare(var: Path) -> dict:
    """A data folder with a member, a session and TAKES finished animatic takes."""
    install = make_install(var)
    session, slug = signed_in(install, "loadbench")
    done = install.manage("shell", "-v0", "-c", QUEUE_TAKES.format(slug=slug, count=TAKES))
    assert done.returncode == 0, done.stderr
    install.serve()
    database = var / "slate.sqlite3"
    deadline = time.monotonic() + 600
    try:
        while True:
            with closing(sqlite3.connect(database)) as db:
                rows = db.execute("SELECT id, status, video FROM studio_take").fetchall()
            if all(status == "completed" for _, status, _ in rows):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"takes did not finish: {rows}\n{install.logs()}")
            time.sleep(0.5)
    finally:
        install.stop()
    videos = [(pk, (var / "media" / video).stat().st_size) for pk, _, video in rows]
    return {"session": session, "slug": slug, "videos": videos}


class Server:
    """`manage.py serve` of one checkout, on a copy of the prepared data."""

    def __init__(self, repo: Path, data: Path, scratch: Path):
        self.var = scratch / f"var-{repo.name}"
        shutil.copytree(data, self.var)
        self.port = free_port()
        env = {**os.environ, "SLATE_VAR_DIR": str(self.var)}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        env.pop("REDIS_URL", None)
        self.log = (scratch / f"serve-{repo.name}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, str(repo / "manage.py"), "serve", "--port", str(self.port)],
            env=env,
            cwd=repo,
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login/", timeout=2).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise SystemExit(f"the server did not start: {self.log.name}") from None
                time.sleep(0.2)

    def cpu_seconds(self) -> float:
        """User and system CPU the server process has used so far (all its threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """(status, body bytes, whether the server keeps the connection) of one HTTP/1.1 answer."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = 0
    if "content-length" in headers:
        length = int(headers["content-length"])
        await reader.readexactly(length)
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            length += size
            if size == 0:
                break
    keep = headers.get("connection", "").lower() != "close"
    return status, length, keep


async def client(port: int, make_request, expect: tuple[int, int], until: float, out: dict):
    """One browser-like client: a keep-alive connection, one request at a time."""
    connection = None
    while time.monotonic() < until:
        if connection is None:
            connection = await asyncio.open_connection("127.0.0.1", port)
        reader, writer = connection
        started = time.perf_counter()
        try:
            writer.write(make_request())
            await writer.drain()
            status, length, keep = await asyncio.wait_for(read_response(reader), 60)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            out["errors"] += 1
            writer.close()
            connection = None
            continue
        out["latencies"].append(time.perf_counter() - started)
        if (status, length if expect[1] else 0) != expect:
            out["errors"] += 1
        if not keep:
            writer.close()
            connection = None
    if connection is not None:
        connection[1].close()


def page_request(port: int, data: dict):
    request = (
        f"GET /w/{data['slug']}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: sessionid={data['session']}\r\n\r\n"
    ).encode()
    return lambda: request


def range_request(port: int, data: dict):
    def make() -> bytes:
        pk, size = random.choice(data["videos"])
        start = random.randrange(0, size - RANGE_BYTES)
        return (
            f"GET /takes/{pk}/video/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Cookie: sessionid={data['session']}\r\n"
            f"Range: bytes={start}-{start + RANGE_BYTES - 1}\r\n\r\n"
        ).encode()

    return make


KINDS = {"page": (page_request, (200, 0)), "range": (range_request, (206, RANGE_BYTES))}


async def load(port: int, data: dict, mix: dict[str, int], seconds: float) -> dict:
    until = time.monotonic() + seconds
    results = {kind: {"latencies": [], "errors": 0} for kind in mix}
    clients = []
    for kind, count in mix.items():
        make, expect = KINDS[kind]
        request = make(port, data)
        clients += [client(port, request, expect, until, results[kind]) for _ in range(count)]
    started = time.monotonic()
    await asyncio.gather(*clients)
    elapsed = time.monotonic() - started
    for result in results.values():
        result["rate"] = len(result["latencies"]) / elapsed
    return results


SCENARIOS = [
    ("page", {"page": 10}),
    ("page", {"page": 50}),
    ("range", {"range": 10}),
    ("range", {"range": 50}),
    ("page + range", {"page": 25, "range": 25}),
]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"


def bench_servers(checkouts, data: Path, prepared: dict, scratch: Path, seconds):
    """Every checkout's server up at once, each scenario run on one after the other: a load
    that drifts during the run weighs on both sides alike."""
    servers = {}
    rows = {label: [] for label, _ in checkouts}
    figures = {label: {} for label, _ in checkouts}
    try:
        for label, repo in checkouts:
            servers[label] = Server(repo, data, scratch)
            asyncio.run(load(servers[label].port, prepared, {"page": 2, "range": 2}, 2))  # warm
        for name, mix in SCENARIOS:
            for label, _ in checkouts:
                cpu = servers[label].cpu_seconds()
                results = asyncio.run(load(servers[label].port, prepared, mix, seconds))
                served = sum(len(result["latencies"]) for result in results.values())
                cpu = (servers[label].cpu_seconds() - cpu) / max(served, 1)
                for kind, result in results.items():
                    lat = result["latencies"] or [0.0]
                    p50, p95, p99 = (percentile(lat, p) for p in (50, 95, 99))
                    clients = mix[kind]
                    figures[label][(name, kind, sum(mix.values()))] = (result["rate"], p95, cpu)
                    rows[label].append(
                        [
                            label,
                            name,
                            kind,
                            f"{clients} of {sum(mix.values())}",
                            f"{result['rate']:.0f}",
                            ms(p50),
                            ms(p95),
                            ms(p99),
                            str(result["errors"]),
                            ms(cpu),
                        ]
                    )
    finally:
        for server in servers.values():
            server.stop()
    return [row for label, _ in checkouts for row in rows[label]], figures


PUSH_SCRIPT = """
import os, sys, time
import django
django.setup()
import redis
from studio import live
r = redis.Redis.from_url(os.environ["REDIS_URL"])
message = {"type": "take.changed", "take_id": 1, "group": "load-bench", "html": "x" * 2000}
for _ in range(20):
    live.send("load-bench", message)
opened = r.info("stats")["total_connections_received"]
started = time.perf_counter()
for _ in range(int(sys.argv[1])):
    live.send("load-bench", message)
elapsed = time.perf_counter() - started
opened = r.info("stats")["total_connections_received"] - opened
print(elapsed / int(sys.argv[1]), opened)
"""


def push_cost(repo: Path, scratch: Path, redis_url: str) -> tuple[float, int]:
    env = {
        **os.environ,
        "SLATE_VAR_DIR": str(scratch / f"push-{repo.name}"),
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "REDIS_URL": redis_url,
        "PYTHONPATH": str(repo),
    }
    done = subprocess.run(
        [sys.executable, "-c", PUSH_SCRIPT, str(PUSHES)],
        env=env,
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    per_push, opened = done.stdout.split()[-2:]
    return float(per_push), int(opened)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, help="a checkout to compare with (git worktree)")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    args = parser.parse_args()
    checkouts = ([("before", args.base.resolve())] if args.base else []) + [("after", REPO)]
    with tempfile.TemporaryDirectory(prefix="slate-load-") as scratch:
        scratch = Path(scratch)
        data = scratch / "data"
        prepared = prepare(data)
        rows, figures = bench_servers(checkouts, data, prepared, scratch, args.seconds)
        print(
            f"One `manage.py serve` (embedded default), {TAKES} takes; each client holds one "
            f"keep-alive connection and sends its next request when the last answer is read; "
            f"{args.seconds:.0f} s a row. Range = {RANGE_BYTES // 1024} KiB of a take's video at "
            f"a random offset. Goals at 50 clients: page p95 <= 500 ms, range p95 <= 200 ms. "
            f"Server CPU/request: the server process's CPU time (every thread) over the row, "
            f"per request (a mixed row's is for both kinds together).\n"
        )
        headers = ["server", "load", "request", "clients", "req/s", "p50", "p95", "p99", "errors"]
        headers.append("server CPU/request")
        print(table(headers, rows))
        if args.base:
            ratio_rows = []
            for key, (rate, p95, cpu) in figures["after"].items():
                old_rate, old_p95, old_cpu = figures["before"][key]
                name, kind, clients = key
                ratio_rows.append(
                    [
                        name,
                        kind,
                        str(clients),
                        f"{rate / old_rate:.2f}x",
                        f"{old_p95 / p95:.1f}x",
                        f"{cpu / old_cpu:.2f}x",
                    ]
                )
            print("\nAfter vs before, same run\n")
            headers = ["load", "request", "clients", "req/s after/before", "p95 before/after"]
            headers.append("server CPU/request after/before")
            print(table(headers, ratio_rows))
        push_rows = []
        for label, repo in checkouts:
            try:
                per_push, opened = push_cost(repo, scratch, args.redis)
            except SystemExit as error:
                print(f"\nPush cost skipped ({label}): {str(error).strip()[-300:]}")
                break
            push_rows.append([label, str(PUSHES), ms(per_push), str(opened)])
        if push_rows:
            print(f"\nOne live push with channels-redis ({args.redis}), {PUSHES} pushes\n")
            print(table(["server", "pushes", "per push", "Redis connections opened"], push_rows))


if __name__ == "__main__":
    main()
