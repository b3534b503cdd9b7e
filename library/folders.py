"""Folders, filing, stars, tags and trash: what people do with takes, one transaction each.

Scoping first (``get_folder``, ``chosen_takes``): another workspace's ids are a 404, as
``studio.access`` has it, and so is another member's personal folder. Every refusal is a
``Refused`` with a message for people, raised before anything is stored.

Folders live in two areas: the workspace's shared folders and each member's personal ones
(``Folder.owner``). A folder is always in its parent's area; a move between areas takes the
whole subtree along. Takes belong to the workspace, not to a folder: a take filed in a
personal folder still shows in everyone's "All takes", only the folder is hidden.
"""

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404

from studio.inputs import whole_number
from studio.models import Membership, Take, Workspace

from .models import (
    NAME_LIMIT,
    TAG_LIMIT,
    Folder,
    ShareLink,
    Star,
    Tag,
    TakeFiling,
    TakeTag,
    TrashedTake,
)

FORBIDDEN_IN_NAMES = ("/", "\\", "\x00")
MAX_TAGS_AT_ONCE = 20


class Refused(ValueError):
    """Bad input, said plainly; nothing was changed."""


# --- scoping -------------------------------------------------------------------------------


def get_folder(workspace: Workspace, user, folder_id) -> Folder:
    """The folder ``user`` may see: shared, or personal to them; anything else is a 404."""
    folder_id = whole_number(folder_id)
    visible = Folder.objects.visible_to(user, workspace)
    folder = visible.filter(pk=folder_id).first() if folder_id else None
    if folder is None:
        raise Http404("No such folder.")
    return folder


def shell_folder(folder_id: int, user=None, workspace: Workspace | None = None) -> Folder:
    """A folder named from the shell (the install's operator, not a member): a shared one, or
    a personal one only with ``--as`` its owner; any other id is "no such folder"."""
    found = Folder.objects.filter(pk=folder_id)
    if workspace is not None:
        found = found.filter(workspace=workspace)
    if user is None:
        found = found.filter(owner=None)
    else:
        found = found.filter(Q(owner=None) | Q(owner=user))
    folder = found.first()
    if folder is None and user is None:
        raise Refused(f"no shared folder {folder_id} (a personal one needs --as its owner)")
    if folder is None:
        raise Refused(f"no folder {folder_id} that {user.get_username()} sees")
    return folder


def area_name(owner_id) -> str:
    return "My folders" if owner_id else "Shared"


def chosen_takes(workspace: Workspace, ids) -> list[Take]:
    """The workspace's takes with these ids; any id that isn't one of them is a 404."""
    numbers = {whole_number(i) for i in ids}
    if None in numbers:
        raise Http404("No such take.")
    found = list(Take.objects.filter(workspace=workspace, pk__in=numbers))
    if len(found) != len(numbers):
        raise Http404("No such take.")
    return found


# --- folders -------------------------------------------------------------------------------


def clean_name(name: str) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise Refused("Give the folder a name.")
    if len(name) > NAME_LIMIT:
        raise Refused(f"Folder names are at most {NAME_LIMIT} characters.")
    if any(mark in name for mark in FORBIDDEN_IN_NAMES) or name in (".", ".."):
        raise Refused("Folder names can't hold / or \\ (folders nest instead).")
    return name


def _name_free(
    workspace: Workspace, parent: Folder | None, name: str, *, owner_id=None, but=None
) -> None:
    """No folder of this name in ``parent`` (at the top level: in the area of ``owner_id``)."""
    clash = Folder.objects.filter(workspace=workspace, parent=parent, name__iexact=name)
    if parent is None:
        clash = clash.filter(owner_id=owner_id)
    if but is not None:
        clash = clash.exclude(pk=but.pk)
    if clash.exists():
        where = f"“{parent.name}”" if parent else f"the top of {area_name(owner_id)}"
        raise Refused(f"There is already a folder called “{name}” in {where}.")


def _owner_for(user, parent: Folder | None, personal: bool):
    """The area a folder placed in ``parent`` belongs to: its parent's, or at the top level
    ``user``'s personal area or the shared one. Someone else's personal folder is a 404."""
    if parent is None:
        return user.pk if personal else None
    if parent.owner_id is not None and parent.owner_id != getattr(user, "pk", None):
        raise Http404("No such folder.")
    return parent.owner_id


def create_folder(
    membership: Membership, name: str, parent: Folder | None = None, *, personal: bool = False
) -> Folder:
    """A new folder in ``parent``; at the top level, in ``membership.user``'s personal area
    when ``personal``, else in the shared one. Inside a folder it joins that folder's area."""
    workspace = membership.workspace
    name = clean_name(name)
    owner_id = _owner_for(membership.user, parent, personal)
    with transaction.atomic():
        _name_free(workspace, parent, name, owner_id=owner_id)
        try:
            return Folder.objects.create(
                workspace=workspace,
                parent=parent,
                owner_id=owner_id,
                name=name,
                created_by=membership.user,
            )
        except IntegrityError:  # made at the same moment by someone else
            raise Refused(f"There is already a folder called “{name}” there.") from None


def rename_folder(folder: Folder, name: str) -> Folder:
    name = clean_name(name)
    with transaction.atomic():
        _name_free(folder.workspace, folder.parent, name, owner_id=folder.owner_id, but=folder)
        folder.name = name
        folder.save(update_fields=["name"])
    return folder


def ancestors(folder: Folder | None) -> list[Folder]:
    """``folder`` and the folders above it, nearest first."""
    chain, seen = [], set()
    while folder is not None and folder.pk not in seen:
        chain.append(folder)
        seen.add(folder.pk)
        folder = folder.parent
    return chain


def descendant_ids(folder: Folder) -> set[int]:
    """The ids of ``folder`` and every folder inside it, however deep."""
    parents = dict(
        Folder.objects.filter(workspace_id=folder.workspace_id).values_list("pk", "parent")
    )
    found, frontier = {folder.pk}, {folder.pk}
    while frontier:
        frontier = {pk for pk, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def move_folder(
    folder: Folder, parent: Folder | None, user=None, *, personal: bool | None = None
) -> str:
    """Put ``folder`` inside ``parent`` (None: the top level of ``user``'s personal area when
    ``personal``, of the shared one when not, of its own area when ``personal`` is None);
    never into itself or below. What was done, in words for people.

    Between areas only for who may: a personal folder goes to the shared area by its owner
    (everyone sees it and what it holds from then on); a shared folder becomes personal only
    for the member who made it and every folder inside it, with no live link someone else
    made. The whole subtree changes area with it."""
    if personal is None:
        personal = folder.owner_id is not None
    user_id = getattr(user, "pk", None)
    with transaction.atomic():
        folder = Folder.objects.select_for_update().get(pk=folder.pk)
        if folder.owner_id is not None and folder.owner_id != user_id:
            raise Http404("No such folder.")
        owner_id = _owner_for(user, parent, personal)
        inside = descendant_ids(folder)
        if parent is not None and parent.pk in inside:
            raise Refused("A folder can't go inside itself or one of its own folders.")
        _name_free(folder.workspace, parent, folder.name, owner_id=owner_id, but=folder)
        said = f"Moved “{folder.name}”."
        if owner_id != folder.owner_id:
            subtree = Folder.objects.filter(pk__in=inside)
            if owner_id is not None:
                if subtree.exclude(created_by_id=user_id).exists():
                    raise Refused(
                        f"“{folder.name}” holds folders other members made: it stays shared."
                    )
                links = ShareLink.objects.filter(folder_id__in=inside, revoked_at=None)
                if links.exclude(created_by_id=user_id).exists():
                    raise Refused(
                        f"“{folder.name}” has share links other members made: revoke them "
                        "first, then move it to My folders."
                    )
                said = (
                    f"“{folder.name}” is in My folders now: only you see it "
                    "(its takes still show in everyone's All takes)."
                )
            else:
                said = (
                    f"“{folder.name}” is shared now: everyone in the workspace sees it "
                    "and what it holds."
                )
            subtree.update(owner_id=owner_id)
        folder.parent = parent
        folder.owner_id = owner_id
        folder.save(update_fields=["parent", "owner"])
    return said


def delete_folder(folder: Folder, contents_to: Folder | None = None) -> None:
    """Delete ``folder``. What it holds (takes, folders) moves to ``contents_to``, or to the
    top level / unfiled when that's None; a destination inside the folder is refused."""
    with transaction.atomic():
        inside = descendant_ids(folder)
        if contents_to is not None and contents_to.pk in inside:
            raise Refused("Its contents can't move into the folder being deleted.")
        if contents_to is not None and contents_to.owner_id != folder.owner_id:
            area = area_name(folder.owner_id)
            raise Refused(f"Its contents stay in {area}: choose a folder there.")
        for child in Folder.objects.filter(parent=folder):
            _name_free(
                folder.workspace, contents_to, child.name, owner_id=folder.owner_id, but=child
            )
        Folder.objects.filter(parent=folder).update(parent=contents_to)
        filings = TakeFiling.objects.filter(folder=folder)
        if contents_to is None:
            filings.delete()
        else:
            filings.update(folder=contents_to)
        folder.delete()  # its share links go with it


def is_empty(folder: Folder) -> bool:
    return not (folder.children.exists() or folder.filings.exists())


def tree(workspace: Workspace, user) -> list[tuple[Folder, int]]:
    """Every folder ``user`` sees (shared and their own) with its depth, in the order a tree
    shows them: their personal folders first, then the shared ones."""
    folders = sorted(Folder.objects.visible_to(user, workspace), key=lambda f: f.owner_id is None)
    by_parent: dict[int | None, list[Folder]] = {}
    for folder in folders:
        by_parent.setdefault(folder.parent_id, []).append(folder)
    shown: list[tuple[Folder, int]] = []

    def walk(parent_id, depth):
        for folder in by_parent.get(parent_id, []):
            shown.append((folder, depth))
            walk(folder.pk, depth + 1)

    walk(None, 0)
    return shown


# --- filing, stars, tags, trash --------------------------------------------------------------


def file_takes(takes: list[Take], folder: Folder | None, *, by=None) -> int:
    """File each take in ``folder`` (one home each: it leaves its old one); None unfiles.

    ``by``, the member filing (None: the shell's operator), can't take a take out of another
    member's personal folder: that folder is theirs to sort, and stays unseen.
    Two people moving the same takes at once: the takes' rows are locked first (in id order,
    so neither waits on the other in a circle), and the later move wins whole."""
    ids = sorted(t.pk for t in takes)
    if by is not None and folder is not None and folder.owner_id not in (None, by.pk):
        raise Http404("No such folder.")
    with transaction.atomic():
        list(Take.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
        if by is not None:
            theirs = sorted(
                TakeFiling.objects.filter(take_id__in=ids, folder__owner__isnull=False)
                .exclude(folder__owner=by)
                .values_list("take_id", flat=True)
            )
            if theirs:
                listed = ", ".join(f"#{pk}" for pk in theirs[:5])
                listed += " …" if len(theirs) > 5 else ""
                raise Refused(
                    f"Take {listed} is filed in another member's personal folder: only they "
                    "can move it. Nothing was moved."
                )
        TakeFiling.objects.filter(take_id__in=ids).delete()
        if folder is not None:
            TakeFiling.objects.bulk_create([TakeFiling(take_id=i, folder=folder) for i in ids])
    return len(ids)


def set_star(user, takes: list[Take], starred: bool = True) -> None:
    with transaction.atomic():
        if starred:
            Star.objects.bulk_create(
                [Star(user=user, take=t) for t in takes], ignore_conflicts=True
            )
        else:
            Star.objects.filter(user=user, take__in=takes).delete()


def toggle_star(user, take: Take) -> bool:
    """Star the take for ``user``, or take the star off; whether it is starred now."""
    deleted, _ = Star.objects.filter(user=user, take=take).delete()
    if deleted:
        return False
    Star.objects.get_or_create(user=user, take=take)
    return True


def clean_tags(text: str) -> list[str]:
    """Tags as typed: comma separated, spaces tidied, case kept, duplicates dropped."""
    names = [" ".join(part.split()) for part in str(text or "").split(",")]
    names = list(dict.fromkeys(n for n in names if n))
    if not names:
        raise Refused("Type a tag (separate several with commas).")
    if len(names) > MAX_TAGS_AT_ONCE:
        raise Refused(f"At most {MAX_TAGS_AT_ONCE} tags at once.")
    for name in names:
        if len(name) > TAG_LIMIT:
            raise Refused(f"Tags are at most {TAG_LIMIT} characters: “{name[:20]}…”.")
    return names


def tag_takes(workspace: Workspace, takes: list[Take], text: str) -> list[Tag]:
    names = clean_tags(text)
    with transaction.atomic():
        tags = []
        for name in names:
            tag = Tag.objects.filter(workspace=workspace, name__iexact=name).first()
            tags.append(tag or Tag.objects.create(workspace=workspace, name=name))
        TakeTag.objects.bulk_create(
            [TakeTag(take=t, tag=tag) for t in takes for tag in tags], ignore_conflicts=True
        )
    return tags


def untag(take: Take, tag: Tag) -> None:
    TakeTag.objects.filter(take=take, tag=tag).delete()


def trash(user, takes: list[Take]) -> int:
    with transaction.atomic():
        TrashedTake.objects.bulk_create(
            [TrashedTake(take=t, by=user) for t in takes], ignore_conflicts=True
        )
    return len(takes)


def restore(takes: list[Take]) -> int:
    """Take these out of the trash; a purged take has nothing left to restore and stays."""
    deleted, _ = TrashedTake.objects.filter(take__in=takes, purged_at=None).delete()
    return deleted
