import re
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from .database import database_busy
from .logs import current_request_id

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
    """A form post refused for the user's role goes back to the page the form was on, with
    the reason as a message (POST/redirect/GET), instead of an error page at the POST's
    address that a reload would post again.

    htmx requests keep their 403 (the page shows it as a toast). Without a same-site page to
    go back to (no Referer, another site's, or the endpoint itself), the error page stays.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if (
            request.method != "POST"
            or getattr(request, "htmx", False)
            or not isinstance(exception, PermissionDenied)
        ):
            return None
        back = request.headers.get("Referer", "")
        if (
            not url_has_allowed_host_and_scheme(
                back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
            or urlsplit(back).path == request.path
        ):
            return None
        messages.error(request, str(exception) or "Your role in this workspace doesn't allow this.")
        return redirect(back)


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
