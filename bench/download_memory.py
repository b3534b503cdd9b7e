"""Peak memory added by downloading a provider's video: streamed (Slate) vs whole (naive).

Each download runs in a process of its own against the simulator on loopback;
the figure is the growth of that process's peak resident set over the download
(after a warm-up download, so imports and buffers are not counted).

    .venv/bin/python bench/download_memory.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import table  # noqa: E402
from tests.support.download_probe import measure  # noqa: E402

MB = 1024 * 1024


def main() -> None:
    rows = []
    for size in (50 * MB, 200 * MB):
        streamed = measure("streamed", size)
        naive = measure("naive", size)
        grow = {
            name: (r["after"] - r["before"]) / MB for name, r in (("s", streamed), ("n", naive))
        }
        ratio = f"{grow['n'] / grow['s']:.0f}x" if grow["s"] >= 0.1 else "no growth to divide by"
        rows.append([f"{size // MB} MB", f"{grow['s']:.1f} MB", f"{grow['n']:.1f} MB", ratio])
    print("Peak memory added by one download (goal: 50 MB adds <= 16 MB)\n")
    print(table(["asset", "streamed (Slate)", "whole body (naive)", "naive / streamed"], rows))


if __name__ == "__main__":
    main()
