"""Measure peak memory of one provider download, in a process of its own.

    python -m tests.support.download_probe BASE_URL API_KEY VIDEO_ID MODE

MODE "streamed" uses Slate's client (64 KiB pieces into a hashing file sink, as
the engine does); "naive" reads the whole body into memory first (the baseline).
Prints JSON with the peak resident set before and after the download, in bytes.
A warm-up download of the same video runs first, so imports and buffers are
counted before, not after. The caller sets the asset size between the two.
"""

import hashlib
import json
import resource
import sys
import tempfile

import httpx


def peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def main(base_url: str, api_key: str, video_id: str, mode: str) -> None:
    from studio.providers.openai import OpenAICompatible

    client = OpenAICompatible(base_url=base_url, api_key=api_key, timeout=120)

    class Hashing:
        def __init__(self, handle):
            self.handle, self.digest = handle, hashlib.sha256()

        def write(self, data):
            self.handle.write(data)
            self.digest.update(data)

    def download() -> int:
        with tempfile.TemporaryFile() as handle:
            if mode == "naive":
                response = httpx.get(
                    f"{base_url}/videos/{video_id}/content",
                    headers={"Authorization": f"Bearer {api_key}"},
                    timeout=120,
                )
                handle.write(response.content)
                return len(response.content)
            sink = Hashing(handle)
            return max(client.download(video_id, sink), default=0)

    download()  # warm-up
    print("warm", flush=True)
    sys.stdin.readline()  # the caller makes the asset big now
    before = peak()
    size = download()
    print(json.dumps({"before": before, "after": peak(), "bytes": size}), flush=True)


def measure(mode: str, size: int) -> dict:
    """Run this probe against a simulator serving a ``size``-byte asset; returns its figures."""
    import subprocess

    from tests.fakes.videos_api import DEFAULT_KEY as KEY
    from tests.fakes.videos_api import Faults, VideosSimulator, serve
    from tests.support.processes import REPO

    sim = VideosSimulator(Faults(render_seconds=(0, 0), asset_bytes=1 << 20), api_key=KEY)
    with serve(sim) as running:
        video = sim.new_video(KEY, "sora-2", "memory", "1280x720", "4")
        command = [
            sys.executable,
            "-m",
            "tests.support.download_probe",
            running.base_url,
            KEY,
            video.id,
            mode,
        ]
        with subprocess.Popen(
            command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        ) as probe:
            assert probe.stdout.readline().strip() == "warm"
            sim.faults.asset_bytes = size
            probe.stdin.write("go\n")
            probe.stdin.flush()
            return json.loads(probe.stdout.readline())


if __name__ == "__main__":
    main(*sys.argv[1:5])
