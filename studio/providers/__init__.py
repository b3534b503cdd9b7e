from .animatic import AnimaticProvider
from .base import Job, LocalProvider, ProviderError

_LOCAL: dict[str, LocalProvider] = {"animatic": AnimaticProvider()}


def get_provider(name: str) -> LocalProvider:
    return _LOCAL[name]


__all__ = ["Job", "LocalProvider", "ProviderError", "get_provider"]
