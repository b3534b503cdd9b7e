"""Named points where a test may kill this worker dead (SIGKILL), once per take.

Production never sets SLATE_CRASHPOINT, and then these are no-ops. The crash
suite sets it to one point name and SLATE_CRASHPOINT_DIR to a folder; the first
worker to reach that point for a take leaves a marker there and dies, exactly
as if the machine lost power, so recovery is tested against real kills.
"""

import os
import signal
from pathlib import Path

POINTS = (
    "before_create",
    "after_create",
    "mid_poll",
    "mid_download",
    "mid_store",
    "after_complete",
)


def crashpoint(name: str, take_id: int) -> None:
    if os.environ.get("SLATE_CRASHPOINT") != name:
        return
    marker = Path(os.environ["SLATE_CRASHPOINT_DIR"]) / f"{name}-{take_id}"
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        return  # this take already crashed a worker here once
    os.kill(os.getpid(), signal.SIGKILL)
