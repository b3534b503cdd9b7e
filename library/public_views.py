"""Share links as a visitor without an account opens them: the player(s), the title, the
prompt if the owner chose; nothing else of the workspace. Each request checks the link
afresh (shares.resolve), media included, so a revocation holds on the very next request.
A link with a password shows only its password form until this browser session gives it;
its media, downloads and review posts are refused until then."""

from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from studio.inputs import whole_number
from studio.ranged import serve_file, serves_media

from . import client_reviews, export, shares
from .folders import Refused
from .models import ClientComment, ClientPick

# Unknown, expired and revoked links look the same (issue 13): a visitor can't tell which
# tokens ever existed. 410 would say "this one did".
GONE_STATUS = 404


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    # The token is in the address: it goes to no other site. Not "no-referrer": browsers then
    # send "Origin: null" with the page's own forms, which the CSRF check refuses.
    response["Referrer-Policy"] = "same-origin"
    return response


def _gone(request) -> HttpResponse:
    shares.count_miss(_address(request))
    return _private(render(request, "library/share_gone.html", status=GONE_STATUS))


def _address(request) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def _too_many(request) -> HttpResponse | None:
    if not shares.throttled(_address(request)):
        return None
    response = render(request, "library/share_gone.html", {"wait": True}, status=429)
    response["Retry-After"] = "60"
    return _private(response)


def _password_page(request, token: str, status=200, problem="", wait=None):
    context = {"token": token, "problem": problem, "wait": wait}
    response = render(request, "library/share_password.html", context, status=status)
    response["Cache-Control"] = "private, no-cache"
    if wait is not None:
        response["Retry-After"] = str(wait * 60)
    return _private(response)


REVIEWER_KEY = "slate_reviewer"  # the name a reviewer gave, kept in their session


def _page(request, link, token: str, takes, status=200, **extra) -> HttpResponse:
    reviewer = request.session.get(REVIEWER_KEY, "") if link.review else ""
    picked = None
    if link.review:
        comments = {}
        for comment in ClientComment.objects.filter(link=link):
            comments.setdefault(comment.take_id, []).append(comment)
        for take in takes:
            take.link_comments = comments.get(take.pk, [])
        if reviewer:
            pick = ClientPick.objects.filter(link=link, reviewer=reviewer).first()
            picked = pick.take_id if pick else None
    title = link.take.title if link.take_id else link.folder.name
    context = {
        "link": link,
        "token": token,
        "takes": takes,
        "title": title,
        "reviewer": reviewer,
        "picked": picked,
        **extra,
    }
    response = render(request, "library/shared.html", context, status=status)
    response["Cache-Control"] = "private, no-cache"
    return _private(response)


@require_safe
def shared(request, token: str) -> HttpResponse:
    if busy := _too_many(request):
        return busy
    try:
        link = shares.resolve(token)
        takes = shares.shared_takes(link)
    except shares.Gone:
        return _gone(request)
    if not takes:
        return _gone(request)
    if shares.is_locked(link, request.session):
        if lockout := shares.locked_out(link):
            return _password_page(request, token, status=429, wait=lockout.minutes)
        return _password_page(request, token)
    shares.count_view(link)
    return _page(request, link, token, takes)


@require_POST
def unlock(request, token: str) -> HttpResponse:
    """The password form's answer: right opens the link for this browser session."""
    if busy := _too_many(request):
        return busy
    try:
        link = shares.resolve(token)
    except shares.Gone:
        return _gone(request)
    if not link.password_hash:
        return _private(redirect("library_public:share", token=token))
    try:
        shares.unlock(link, request.POST.get("password", ""), request.session)
    except shares.WrongPassword:
        problem = "That password isn't right. Check it with the person who sent the link."
        return _password_page(request, token, status=400, problem=problem)
    except shares.LockedOut as locked:
        return _password_page(request, token, status=429, wait=locked.minutes)
    # A new session id once the link opens, so an id planted before can't ride along.
    request.session.cycle_key()
    return _private(redirect("library_public:share", token=token))


@require_POST
def review(request, token: str) -> HttpResponse:
    """A reviewer's pick (``pick=<take id>``) or comment (``comment=<take id>`` with
    ``text-<id>`` and ``at-<id>``), under one ``name``; only on a review link, only on a take
    it shares."""
    if busy := _too_many(request):
        return busy
    try:
        link = shares.resolve(token)
        if not link.review:
            raise shares.Gone
        if shares.is_locked(link, request.session):
            return _private(redirect("library_public:share", token=token))
        takes = shares.shared_takes(link)
        # One form for the page: the name once, and each take's buttons name the take.
        action = "pick" if "pick" in request.POST else "comment"
        take = shares.shared_take(link, whole_number(request.POST.get(action, "")) or 0)
    except shares.Gone:
        return _gone(request)
    name = request.POST.get("name", "")
    text = request.POST.get(f"text-{take.pk}", "")
    at = request.POST.get(f"at-{take.pk}", "")
    try:
        if action == "pick":
            client_reviews.pick(link, name, take)
        else:
            client_reviews.comment(link, name, take, text, at)
    except Refused as error:
        # Nothing is stored; what the reviewer typed comes back with the reason.
        typed = {"name": name[:60], "take": take.pk, "text": text[:2000], "at": at[:12]}
        return _page(request, link, token, takes, status=400, problem=str(error), typed=typed)
    request.session[REVIEWER_KEY] = client_reviews.clean_reviewer(name)
    return _private(redirect(f"{request.path.rsplit('review/', 1)[0]}#shared-take-{take.pk}"))


@serves_media
@require_safe
def shared_media(request, token: str, take_id: int, kind: str) -> HttpResponse:
    if busy := _too_many(request):
        return busy
    try:
        link = shares.resolve(token)
        take = shares.shared_take(link, take_id)
    except shares.Gone:
        return _gone(request)
    if shares.is_locked(link, request.session):
        return _private(HttpResponseForbidden("This link needs its password: open the link first."))
    if kind == "video":
        response = serve_file(
            request,
            take.video,
            content_type="video/mp4",
            filename=f"take-{take.pk}.mp4",
            etag=take.video_sha256,
        )
    elif kind == "download" and link.allow_download:
        response = serve_file(
            request,
            take.video,
            content_type="video/mp4",
            attachment=True,
            filename=export.file_name(take),
            etag=take.video_sha256,
        )
    elif kind == "poster" and take.poster:
        response = serve_file(
            request, take.poster, content_type="image/jpeg", filename=f"take-{take.pk}.jpg"
        )
    else:
        return _gone(request)
    return _private(response)
