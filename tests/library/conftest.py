import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _no_share_misses_carried_over():
    """Share-link misses are counted per address per minute; each test starts with none."""
    cache.clear()
