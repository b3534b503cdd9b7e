"""A big import during a render, on a real server (issue 9's "one editor can fail other
people's renders").

`manage.py serve` (embedded default: SQLite in WAL mode, the in-process worker) renders an 8 s
1280x720 animatic in one workspace. While it renders, a member of another workspace saves 15
presets and signs in 5 times, one request after another; in the second row the first
workspace also imports the biggest presets file Slate accepts (20 presets of 50 versions).
The first row, the same without the import, is the baseline measured in the same run.

    .venv/bin/python bench/busy_database.py
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import percentile, table  # noqa: E402
from tests.support.busy import scenario  # noqa: E402
from tests.support.processes import make_install  # noqa: E402


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    rows, p95s = [], {}
    with tempfile.TemporaryDirectory() as var:
        install = make_install(Path(var) / "var")
        url = install.serve()
        try:
            for big_import in (False, True):
                found = scenario(install, url, big_import=big_import)
                saves = [seconds for _, seconds, _ in found["saves"]]
                answers = [status for status, _, _ in found["saves"] + found["logins"]]
                p95s[big_import] = percentile(saves, 95)
                rows.append(
                    [
                        "render + import + saves" if big_import else "render + saves (baseline)",
                        found["render"],
                        f"{found['render_seconds']:.1f} s",
                        f"{found['import']}, {found['import_seconds']:.2f} s"
                        if big_import
                        else "-",
                        sum(s < 400 for s in answers),
                        answers.count(503),
                        answers.count(500),
                        ms(percentile(saves, 50)),
                        ms(p95s[big_import]),
                        ms(max(saves)),
                        f"{p95s[big_import] / p95s[False]:.2f}x",
                    ]
                )
        finally:
            install.stop()
    headers = [
        "run",
        "render",
        "render time",
        "import",
        "ok",
        "busy (503)",
        "500",
        "save p50",
        "save p95",
        "save max",
        "p95 vs baseline",
    ]
    print("Another workspace's saves and sign-ins while a take renders, with and without the")
    print("biggest presets import at the same time (real server, SQLite)\n")
    print(table(headers, rows))


if __name__ == "__main__":
    main()
