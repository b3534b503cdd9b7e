"""Uploads are capped while they stream in, so an oversized file never reaches memory or disk.

Every file Slate accepts is small (reference stills ≤ 5 MB, preset files ≤ 2 MB).
Django would otherwise spool any upload to a temporary file before a view could
look at its size. Here a file over SLATE_MAX_UPLOAD_BYTES is skipped as soon as
it passes the cap (the rest of it is read and discarded) and the request notes
which field it was, so the view can say why in a sentence.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class CappedUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.SLATE_MAX_UPLOAD_BYTES:
            refused = getattr(self.request, "refused_uploads", set())
            self.request.refused_uploads = refused | {self.field_name}
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handlers keep the file


def refused(request, field: str) -> bool:
    """Whether ``field`` was an upload skipped for being over the cap."""
    return field in getattr(request, "refused_uploads", set())
