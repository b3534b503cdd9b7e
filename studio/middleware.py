import re
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import HttpResponse
from django.shortcuts import render, resolve_url
from django_htmx.http import HttpResponseClientRedirect

from .database import database_busy
from .logs import current_request_id
from .refused import NOT_ALLOWED, back_to_form

# A proxy's own request id (nginx's $request_id) is kept, so its log and Slate's agree.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestIdMiddleware:
    """Give each request an id: in its X-Request-ID response header and its log lines."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = current_request_id.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class HtmxLoginRedirectMiddleware:
    """An htmx request whose session ended gets a full-page redirect to the login page.

    Without this, htmx follows the 302 and swaps the whole login page into the
    element that made the request.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.login_path = None

    def __call__(self, request):
        response = self.get_response(request)
        if self.login_path is None:
            self.login_path = resolve_url(settings.LOGIN_URL)
        if (
            getattr(request, "htmx", False)
            and response.status_code == 302
            and response["Location"].startswith(self.login_path)
        ):
            return HttpResponseClientRedirect(response["Location"])
        return response


class RefusedPostMiddleware:
    """A form post refused for the user's role goes back to its page (studio/refused.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, PermissionDenied):
            return None
        return back_to_form(request, str(exception) or NOT_ALLOWED)


class DatabaseBusyMiddleware:
    """A request that met a database still busy after its timeout (SQLite while another
    request writes for long) gets a clear "busy, try again" (503), never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError) or not database_busy(exception):
            return None
        message = "Slate is busy writing something else right now; try again in a moment."
        if getattr(request, "htmx", False):
            return HttpResponse(message, status=503, headers={"Retry-After": "2"})
        response = render(request, "busy.html", {"message": message}, status=503)
        response["Retry-After"] = "2"
        return response
