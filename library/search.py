"""Words in a take's prompt, found by full-text search: one interface, two databases.

SQLite (the embedded default): an FTS5 table ``library_take_text`` whose rowid is the take id,
made by migration 0002 and kept in step by ``index_take`` / ``forget_take``, which follow the
take's own save and delete (the receivers below; studio knows nothing of the library, and
library/models.py imports this module so they are connected in every process).
PostgreSQL: ``to_tsvector`` over the same text, answered from a GIN index on that very expression
(``gin_index()``, made by migration 0007 on PostgreSQL only).
Any other database: every word must appear (``icontains``).
"""

import re

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from studio.models import Take
from studio.prompts import SHOT_FIELDS

FTS_TABLE = "library_take_text"
TEXT_FIELDS = (*SHOT_FIELDS, "composed_prompt", "negative_prompt")
WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 12


def words_of(query: str) -> list[str]:
    """The words of what someone typed; operators and punctuation are never FTS syntax."""
    return WORD.findall(query or "")[:MAX_WORDS]


def text_of(take: Take) -> str:
    return "\n".join(str(getattr(take, name) or "") for name in dict.fromkeys(TEXT_FIELDS))


def uses_fts5() -> bool:
    return connection.vendor == "sqlite"


def create_index(cursor) -> None:
    cursor.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} "
        "USING fts5(body, tokenize='unicode61 remove_diacritics 2')"
    )


def index_take(take: Take) -> None:
    if not uses_fts5():
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [take.pk])
        cursor.execute(
            f"INSERT INTO {FTS_TABLE}(rowid, body) VALUES (%s, %s)", [take.pk, text_of(take)]
        )


def rebuild(batch: int = 2000) -> int:
    """Index every take afresh (after rows were made without save(), e.g. bulk_create)."""
    if not uses_fts5():
        return 0
    count = 0
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE}")
        rows = []
        for take in Take.objects.only("pk", *dict.fromkeys(TEXT_FIELDS)).iterator(batch):
            rows.append((take.pk, text_of(take)))
            if len(rows) >= batch:
                cursor.executemany(f"INSERT INTO {FTS_TABLE}(rowid, body) VALUES (%s, %s)", rows)
                count, rows = count + len(rows), []
        if rows:
            cursor.executemany(f"INSERT INTO {FTS_TABLE}(rowid, body) VALUES (%s, %s)", rows)
            count += len(rows)
    return count


def forget_take(take_id: int) -> None:
    if uses_fts5():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [take_id])


def search(takes: QuerySet, query: str) -> QuerySet:
    """``takes`` narrowed to those whose prompt fields hold every word of ``query``
    (prefixes match on SQLite: "light" finds "lighthouse")."""
    words = words_of(query)
    if not words:
        return takes
    if uses_fts5():
        match = " ".join('"' + w.replace('"', "") + '"*' for w in words)
        found = RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [match])
        return takes.filter(pk__in=found)
    if connection.vendor == "postgresql":
        return takes.annotate(_text=_pg_vector()).filter(_text=_pg_query(words))
    condition = Q()
    for word in words:
        any_field = Q()
        for name in TEXT_FIELDS:
            any_field |= Q(**{f"{name}__icontains": word})
        condition &= any_field
    return takes.filter(condition)


def _pg_vector():
    return SearchVector(*dict.fromkeys(TEXT_FIELDS), config="simple")


GIN_INDEX = "library_take_text_gin"


def gin_index() -> GinIndex:
    """PostgreSQL's index for search(): built from the expression the query uses, so the
    planner can match the two."""
    return GinIndex(_pg_vector(), name=GIN_INDEX)


def _pg_query(words: list[str]):
    return SearchQuery(" & ".join(f"{w}:*" for w in words), search_type="raw", config="simple")


# A take's prompt is fixed when it is made: only a new take needs indexing.
@receiver(post_save, sender=Take, dispatch_uid="library-search-index")
def _indexed(sender, instance: Take, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        index_take(instance)


@receiver(post_delete, sender=Take, dispatch_uid="library-search-forget")
def _forgotten(sender, instance: Take, **kwargs) -> None:
    forget_take(instance.pk)
