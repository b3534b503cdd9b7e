"""Log lines that name the request they are about, as text or as one JSON object each.

Every request gets an id (studio.middleware.RequestIdMiddleware): the response carries it in
X-Request-ID, so a person who met an error can quote it, and it leads to the logged traceback.
"""

import contextvars
import json
import logging
from datetime import UTC, datetime

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_request_id", default=None
)


def request_id_of(record: logging.LogRecord) -> str | None:
    request = getattr(record, "request", None)
    return getattr(request, "request_id", None) or current_request_id.get()


class TextFormatter(logging.Formatter):
    def format(self, record):
        text = super().format(record)
        request_id = request_id_of(record)
        return f"[request {request_id}] {text}" if request_id else text


class JsonFormatter(logging.Formatter):
    """One line per record: time, level, logger, message, request_id and any traceback."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if request_id := request_id_of(record):
            entry["request_id"] = request_id
        if status := getattr(record, "status_code", None):
            entry["status"] = status
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)
