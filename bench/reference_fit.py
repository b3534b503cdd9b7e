"""Reference image fitting: a 12-megapixel JPEG to a fitted 1280x720 first frame.

Slate's path (images.fit_bytes): checks from the header, a decode at the reduced
JPEG scale the target allows (libjpeg's DCT scaling, still reading every byte),
EXIF orientation, RGB, crop around the focus, resize with a reducing gap. The
naive baseline in the same run: full decode, orient, convert, ImageOps.fit with
LANCZOS. Goal: <= 150 ms.

    .venv/bin/python bench/reference_fit.py
"""

import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from bench._setup import percentile, table  # noqa: E402
from studio import images  # noqa: E402

RUNS = 20


def photo_12mp() -> bytes:
    """A 4000x3000 JPEG with photo-like detail (noise over gradients), as a phone takes."""
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:3000, 0:4000]
    base = np.stack([(x / 4000 * 255), (y / 3000 * 255), ((x + y) / 7000 * 255)], axis=-1)
    pixels = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=88)
    return out.getvalue()


def naive(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        upright = ImageOps.exif_transpose(image).convert("RGB")
    return ImageOps.fit(upright, (1280, 720), Image.Resampling.LANCZOS)


def timed(function, data) -> list[float]:
    function(data)  # warm up
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        function(data)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    data = photo_12mp()
    ours = timed(lambda d: images.fit_bytes(d, "1280x720"), data)
    base = timed(naive, data)
    with Image.open(io.BytesIO(images.fit_bytes(data, "1280x720"))) as fitted:
        assert fitted.size == (1280, 720)
    ms = lambda values, p: f"{percentile(values, p) * 1000:.0f} ms"  # noqa: E731
    rows = [
        [
            "Slate: checks, reduced-scale decode, fit, JPEG out",
            RUNS,
            ms(ours, 50),
            ms(ours, 95),
            f"{statistics.median(base) / statistics.median(ours):.1f}x faster",
        ],
        ["naive: full decode, ImageOps.fit (LANCZOS)", RUNS, ms(base, 50), ms(base, 95), "1.0x"],
    ]
    print(
        f"12-megapixel JPEG ({len(data) / 1e6:.1f} MB, 4000x3000) to a fitted 1280x720 "
        "(goal: <= 150 ms)\n"
    )
    print(table(["path", "runs", "p50", "p95", "vs naive"], rows))


if __name__ == "__main__":
    main()
