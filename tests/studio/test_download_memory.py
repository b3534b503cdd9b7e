"""A 50 MB asset is streamed to disk: it adds at most 16 MB to the worker's peak memory."""

import pytest

from tests.support.download_probe import measure

pytestmark = pytest.mark.slow
MB = 1024 * 1024


def test_a_50_mb_download_adds_at_most_16_mb_of_peak_memory():
    result = measure("streamed", 50 * MB)
    assert result["bytes"] == 50 * MB
    assert result["after"] - result["before"] <= 16 * MB, result
