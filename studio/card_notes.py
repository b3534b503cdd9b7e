"""Short notes other apps put on a take's card (the library: the members' average rating,
"Circled"). The studio draws them without knowing whose they are: imports run library →
studio, never back, so the library registers its source in ``LibraryConfig.ready()``.

Floor 1: no project imports.
"""

from collections.abc import Callable, Iterable

# A source: for these take ids, each take's notes as (kind, text); kind names a CSS class.
Source = Callable[[list[int]], dict[int, list[tuple[str, str]]]]

_sources: list[Source] = []


def register(source: Source) -> None:
    if source not in _sources:
        _sources.append(source)


def notes_of(take_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """Each take's notes, from every source asked once for all of them, so a list costs
    the same queries whatever its length."""
    ids = list(take_ids)
    found: dict[int, list[tuple[str, str]]] = {pk: [] for pk in ids}
    if ids:
        for source in _sources:
            for pk, notes in source(ids).items():
                found[pk] += notes
    return found


def attach(takes: Iterable) -> None:
    """Set ``card_notes`` on each take (``notes_of``)."""
    takes = list(takes)
    found = notes_of(take.pk for take in takes)
    for take in takes:
        take.card_notes = found[take.pk]
