"""What Slate knows about its database beyond the ORM."""


def database_busy(error: Exception) -> bool:
    """A database error that waiting can cure: SQLite's write lock held by a long writer
    past the busy timeout (settings: WAL, IMMEDIATE writers, a 20 s timeout)."""
    text = str(error).lower()
    return "database is locked" in text or "database table is locked" in text
