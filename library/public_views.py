"""Share links as a visitor without an account opens them: the player(s), the title, the
prompt if the owner chose; nothing else of the workspace. Each request checks the link
afresh (shares.resolve), media included, so a revocation holds on the very next request."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from studio.ranged import serve_file

from . import export, shares

# Unknown, expired and revoked links look the same (issue 13): a visitor can't tell which
# tokens ever existed. 410 would say "this one did".
GONE_STATUS = 404


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response


def _gone(request) -> HttpResponse:
    return _private(render(request, "library/share_gone.html", status=GONE_STATUS))


@require_safe
def shared(request, token: str) -> HttpResponse:
    try:
        link = shares.resolve(token)
        takes = shares.shared_takes(link)
    except shares.Gone:
        return _gone(request)
    if not takes:
        return _gone(request)
    shares.count_view(link)
    title = link.take.title if link.take_id else link.folder.name
    context = {"link": link, "token": token, "takes": takes, "title": title}
    response = render(request, "library/shared.html", context)
    response["Cache-Control"] = "private, no-cache"
    return _private(response)


@require_safe
def shared_media(request, token: str, take_id: int, kind: str) -> HttpResponse:
    try:
        link = shares.resolve(token)
        take = shares.shared_take(link, take_id)
    except shares.Gone:
        return _gone(request)
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
