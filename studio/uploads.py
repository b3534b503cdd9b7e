"""Upload limits, in one place, and a handler that enforces them while a file streams in.

Every file Slate accepts is small: a reference still (REFERENCE_LIMIT) or a
presets file (PRESETS_LIMIT). Django would otherwise spool any upload to a
temporary file before a view could look at its size. Here a file over
STREAM_CAP (the largest limit plus headroom) is skipped as soon as it passes
the cap (the rest of it is read and discarded) and the request notes which
field it was, so the view can say why in a sentence.
"""

from django.core.files.uploadhandler import FileUploadHandler, SkipFile

MB = 1024 * 1024
REFERENCE_LIMIT = 5 * MB  # a first-frame still
PRESETS_LIMIT = 2 * MB  # a presets (JSON) file
STREAM_CAP = max(REFERENCE_LIMIT, PRESETS_LIMIT) + 1 * MB  # multipart overhead fits in the rest


def megabytes(size: int) -> str:
    """A size as the messages say it: "5 MB", "7.3 MB"."""
    return f"{size / MB:.1f}".removesuffix(".0") + " MB"


def over_limit(what: str, size: int, limit: int) -> str | None:
    """The sentence for a file of ``size`` over ``limit`` (None when it fits)."""
    if size <= limit:
        return None
    return f"The {what} is {megabytes(size)}; the limit is {megabytes(limit)}."


class CappedUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > STREAM_CAP:
            refused = getattr(self.request, "refused_uploads", set())
            self.request.refused_uploads = refused | {self.field_name}
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handlers keep the file


def refused(request, field: str) -> bool:
    """Whether ``field`` was an upload skipped for being over the cap."""
    return field in getattr(request, "refused_uploads", set())
