"""The library's gallery: takes with folders, stars, tags, bulk actions and zip export; and
share links (made here, opened by anyone in public_views.py). Views validate and call the
functions in folders.py, gallery.py, export.py and shares.py."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from studio import access
from studio.inputs import whole_number
from studio.models import Membership, Role, Status
from studio.prompts import SHOT_FIELDS, SHOT_LABELS

from . import export, folders, gallery, shares, trash
from .folders import Refused
from .models import Folder, Tag


def _gallery_url(slug: str, query: str = "") -> str:
    url = reverse("library:gallery", args=[slug])
    return f"{url}?{query}" if query else url


# How the results are drawn; from the URL (``view``) like the filters, so a link keeps it.
LAYOUTS = {"grid": "Grid", "list": "List"}


def layout_of(params) -> str:
    view = params.get("view", "")
    return view if view in LAYOUTS else "grid"


def _layout_links(params) -> list[tuple[str, str, str]]:
    """(layout, label, query) for the toggle: the page as it is, drawn the other way."""
    links = []
    for layout, label in LAYOUTS.items():
        query = params.copy()
        query.pop("after", None)
        query.pop("view", None)
        if layout != "grid":
            query["view"] = layout
        links.append((layout, label, query.urlencode()))
    return links


MY_TOP = "mine"  # a folder form's "top of My folders"; "" is the top of Shared


def folder_choices(tree) -> list[tuple[int, str]]:
    """Each folder of ``tree`` with its area and path: "My folders › Films › Ads"."""
    choices, path = [], []
    for folder, depth in tree:
        path[depth:] = [folder.name]
        choices.append((folder.pk, " › ".join([folders.area_name(folder.owner_id), *path])))
    return choices


def areas(tree) -> dict:
    """The tree beside the gallery, in its two sections (each still in tree order)."""
    return {
        "my_tree": [(f, d) for f, d in tree if f.owner_id is not None],
        "shared_tree": [(f, d) for f, d in tree if f.owner_id is None],
    }


def _context(request, membership: Membership, params, **extra) -> dict:
    workspace = membership.workspace
    filters = gallery.parse_filters(workspace, request.user, params)
    found = gallery.page(workspace, request.user, filters, params.get("after", ""))
    following = ""
    if found["next"]:
        query = params.copy()
        query["after"] = found["next"]
        following = f"?{query.urlencode()}"
    if filters.trash:
        for take in found["takes"]:
            take.purge_on = trash.purge_due_at(take.trashed.at)
    tree = folders.tree(workspace, request.user)
    back = params.copy()
    back.pop("after", None)
    return {
        "workspace": workspace,
        "membership": membership,
        "can_edit": membership.can_edit,
        "filters": filters,
        "takes": found["takes"],
        "matching_count": gallery.matching(workspace, request.user, filters).count(),
        "following": following,
        "bad_cursor": found["bad_cursor"],
        "back": back.urlencode(),
        **areas(tree),
        "folder_choices": folder_choices(tree),
        "tags": Tag.objects.filter(workspace=workspace),
        "models": gallery.models_used(workspace),
        "statuses": Status.choices,
        "sorts": gallery.SORTS,
        "ratings": gallery.RATINGS,
        "lineages": gallery.LINEAGES,
        "can_own": membership.role == Role.OWNER,
        "trash_days": settings.SLATE_TRASH_DAYS,
        "layout": layout_of(params),
        "layout_links": _layout_links(params),
        **extra,
    }


@login_required
@require_safe
def gallery_page(request, slug: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug)
    context = _context(request, membership, request.GET)
    if request.htmx and request.htmx.target == "gallery-results":
        return render(request, "library/gallery.html#results", context)
    if request.htmx and "after" in request.GET:
        return render(request, "library/gallery.html#page", context)
    return render(request, "library/gallery.html", context)


def _problem(request, membership: Membership, back: str, problem: str) -> HttpResponse:
    context = _context(request, membership, QueryDict(back), problem=problem)
    return render(request, "library/gallery.html", context, status=400)


def _destination(membership: Membership, value: str) -> Folder | None:
    """A folder picked in a form: "" (or MY_TOP) is the top level (or unfiled); another
    workspace's folder, or another member's personal one, is a 404."""
    if value in ("", MY_TOP):
        return None
    return folders.get_folder(membership.workspace, membership.user, value)


# --- folders ---------------------------------------------------------------------------------


@login_required
@require_POST
def create_folder(request, slug: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug, edit=True)
    back = request.POST.get("back", "")
    place = request.POST.get("parent", "")
    parent = _destination(membership, place)
    try:
        folder = folders.create_folder(
            membership, request.POST.get("name", ""), parent, personal=place == MY_TOP
        )
    except Refused as error:
        return _problem(request, membership, back, str(error))
    area = folders.area_name(folder.owner_id)
    where = f" inside “{parent.name}”" if parent else f" at the top of {area}"
    messages.success(request, f"Folder “{folder.name}” created{where}.")
    return redirect(_gallery_url(slug, back))


def _folder_page(request, membership, folder, status=200, **extra) -> HttpResponse:
    inside = folders.descendant_ids(folder)
    tree = folders.tree(membership.workspace, membership.user)
    others = folder_choices([(f, d) for f, d in tree if f.pk not in inside])
    same_area = {f.pk for f, _ in tree if f.owner_id == folder.owner_id}
    context = {
        "workspace": membership.workspace,
        "folder": folder,
        "area": folders.area_name(folder.owner_id),
        "path": list(reversed(folders.ancestors(folder))),
        "empty": folders.is_empty(folder),
        "destinations": others,
        "contents_destinations": [(pk, label) for pk, label in others if pk in same_area],
        "shares": folder.shares.filter(revoked_at=None),
        **extra,
    }
    return render(request, "library/folder.html", context, status=status)


@login_required
@require_safe
def folder_detail(request, slug: str, folder_id: int) -> HttpResponse:
    membership = access.get_membership(request.user, slug, edit=True)
    folder = folders.get_folder(membership.workspace, request.user, folder_id)
    return _folder_page(request, membership, folder)


@login_required
@require_POST
def folder_change(request, slug: str, folder_id: int, change: str) -> HttpResponse:
    """Rename, move or delete a folder (``change``); a refusal re-renders the folder page."""
    membership = access.get_membership(request.user, slug, edit=True)
    folder = folders.get_folder(membership.workspace, request.user, folder_id)
    try:
        if change == "rename":
            folders.rename_folder(folder, request.POST.get("name", ""))
        elif change == "move":
            place = request.POST.get("parent", "")
            said = folders.move_folder(
                folder, _destination(membership, place), request.user, personal=place == MY_TOP
            )
            messages.success(request, said)
        elif change == "delete":
            if not folders.is_empty(folder) and "contents_to" not in request.POST:
                raise Refused("This folder isn't empty: choose where its contents go.")
            target = _destination(membership, request.POST.get("contents_to", ""))
            folders.delete_folder(folder, target)
            return redirect(_gallery_url(slug, f"folder={target.pk}" if target else ""))
        else:
            raise Http404("No such change.")
    except Refused as error:
        folder.refresh_from_db()
        return _folder_page(request, membership, folder, status=400, problem=str(error))
    return redirect(_gallery_url(slug, f"folder={folder.pk}"))


# --- one take: star, tags ------------------------------------------------------------------


@login_required
@require_POST
def star(request, slug: str, take_id: int) -> HttpResponse:
    """Anyone who can see a take may star it: stars are one's own."""
    membership = access.get_membership(request.user, slug)
    (take,) = folders.chosen_takes(membership.workspace, [take_id])
    take.starred = folders.toggle_star(request.user, take)
    if request.htmx:
        return render(
            request, "library/gallery.html#star", {"take": take, "workspace": take.workspace}
        )
    return redirect(_gallery_url(slug, request.POST.get("back", "")))


@login_required
@require_safe
def take_drawer(request, slug: str, take_id: int) -> HttpResponse:
    """One take's player and prompt, for the gallery's detail drawer (htmx). Viewers too."""
    take, membership = access.get_take(request.user, take_id)
    if take.workspace.slug != slug:
        raise Http404("No such take.")
    context = {
        "take": take,
        "workspace": take.workspace,
        "can_edit": membership.can_edit,
        "shot_rows": [(SHOT_LABELS[name], getattr(take, name)) for name in SHOT_FIELDS],
    }
    return render(request, "library/take_drawer.html", context)


# --- many takes at once --------------------------------------------------------------------

EDITOR_ACTIONS = {"move", "tag", "trash", "restore"}
ACTIONS = EDITOR_ACTIONS | {"star", "unstar", "zip"}


@login_required
@require_POST
def bulk(request, slug: str) -> HttpResponse:
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        membership = access.get_membership(request.user, slug)
        return _problem(request, membership, request.POST.get("back", ""), "Choose an action.")
    membership = access.get_membership(request.user, slug, edit=action in EDITOR_ACTIONS)
    back = request.POST.get("back", "")
    try:
        if request.POST.get("matching") == "1":
            filters = gallery.parse_filters(membership.workspace, request.user, QueryDict(back))
            chosen = gallery.everything_matching(membership.workspace, request.user, filters)
        else:
            chosen = folders.chosen_takes(membership.workspace, request.POST.getlist("take"))
        if not chosen:
            raise Refused("Select at least one take first.")
        if action == "zip":
            name = f"slate-{membership.workspace.slug}-{len(chosen)}-takes.zip"
            return export.ZipResponse(export.archive(chosen), name)
        some = takes_count(len(chosen))
        if action == "move":
            target = _destination(membership, request.POST.get("folder", ""))
            folders.file_takes(chosen, target, by=request.user)
            done = f"Moved {some} to “{target.name}”." if target else f"Unfiled {some}."
        elif action == "tag":
            tags = folders.tag_takes(membership.workspace, chosen, request.POST.get("tags", ""))
            done = f"Tagged {some} " + ", ".join(f"#{tag.name}" for tag in tags) + "."
        elif action in ("star", "unstar"):
            folders.set_star(request.user, chosen, starred=action == "star")
            done = f"{action.capitalize()}red {some}."
        elif action == "trash":
            folders.trash(request.user, chosen)
            done = f"Moved {some} to the trash; Trash can restore them."
        else:
            done = f"Restored {takes_count(folders.restore(chosen))} from the trash."
    except Refused as error:
        return _problem(request, membership, back, str(error))
    messages.success(request, done)
    return redirect(_gallery_url(slug, back))


def takes_count(n: int) -> str:
    return f"{n} take" if n == 1 else f"{n} takes"


@login_required
@require_POST
def empty_trash(request, slug: str) -> HttpResponse:
    """Purge every take in the trash now: owners only, since nothing brings them back."""
    membership = access.get_membership(request.user, slug, own=True)
    purged = trash.empty_trash(membership.workspace)
    messages.success(request, f"Emptied the trash. {purged}")
    return redirect(_gallery_url(slug, "trash=1"))


# --- share links ---------------------------------------------------------------------------


def _shares_page(request, membership, status=200, **extra) -> HttpResponse:
    context = {
        "workspace": membership.workspace,
        "can_edit": membership.can_edit,
        "links": shares.active_links(membership.workspace, request.user),
        "expiry_choices": [("1", "1 day"), ("7", "7 days"), ("30", "30 days"), ("", "Never")],
        **extra,
    }
    return render(request, "library/shares.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def share_links(request, slug: str) -> HttpResponse:
    """The workspace's live links; POST makes one for ``take`` or ``folder`` (editors)."""
    if request.method == "GET":
        return _shares_page(request, access.get_membership(request.user, slug, edit=True))
    membership = access.get_membership(request.user, slug, edit=True)
    take = folder = None
    if take_id := request.POST.get("take"):
        (take,) = folders.chosen_takes(membership.workspace, [take_id])
    if folder_id := request.POST.get("folder"):
        folder = folders.get_folder(membership.workspace, request.user, folder_id)
    try:
        link, token = shares.create(
            membership,
            take=take,
            folder=folder,
            expires=request.POST.get("expires", "7"),
            show_prompt=request.POST.get("show_prompt") == "on",
            allow_download=request.POST.get("allow_download") == "on",
            review=request.POST.get("review") == "on",
            password=request.POST.get("password", ""),
        )
    except Refused as error:
        return _shares_page(request, membership, status=400, problem=str(error))
    return _shares_page(request, membership, created=link, url=shares.url_of(request, token))


@login_required
@require_safe
def share_take(request, slug: str, take_id: int) -> HttpResponse:
    """The choices one take's link is made with: a panel on the take page (htmx), or a page
    of its own from a gallery card. The form posts to ``share_links``."""
    take, membership = access.get_take(request.user, take_id)
    if take.workspace.slug != slug:
        raise Http404("No such take.")
    context = {
        "workspace": take.workspace,
        "take": take,
        "can_edit": membership.can_edit,
        "refusal": shares.unshareable(take) if membership.can_edit else "",
    }
    if request.htmx:
        return render(request, "library/share_take.html#panel", context)
    return render(request, "library/share_take.html", context)


@login_required
@require_POST
def revoke_share(request, slug: str, link_id: int) -> HttpResponse:
    membership = access.get_membership(request.user, slug, edit=True)
    seen = shares.links_seen_by(request.user, membership.workspace)
    link = seen.filter(pk=whole_number(link_id)).first()
    if link is None:
        raise Http404("No such link.")
    shares.revoke(link)
    return redirect("library:shares", slug=slug)
