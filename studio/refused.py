"""A refused form post goes back to the page the form was on, with the reason as a message
(POST/redirect/GET), rather than an error page at the POST's address that a reload would
post again. htmx requests keep their 403 (the page shows it as a toast). Without a same-site
page to go back to (no Referer, another site's, or the endpoint itself) the error page stays.
"""

from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

NOT_ALLOWED = "Your role in this workspace doesn't allow this."
EXPIRED = "That form had expired, so nothing was sent: send it again."


def back_to_form(request: HttpRequest, reason: str) -> HttpResponse | None:
    """A redirect to the page the refused form post came from, or None to show the error."""
    if request.method != "POST" or getattr(request, "htmx", False):
        return None
    back = request.headers.get("Referer", "")
    if (
        not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        or urlsplit(back).path == request.path
    ):
        return None
    messages.error(request, reason)
    return redirect(back)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form from an old page (its token rotated by a log-in elsewhere)."""
    return back_to_form(request, EXPIRED) or render(request, "403_csrf.html", status=403)
