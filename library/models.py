from django.conf import settings
from django.db import models

from studio.models import Take, Workspace

from . import search  # noqa: F401 - connects the prompt index to takes' saves and deletes


class PresetQuerySet(models.QuerySet):
    def visible_to(self, user, workspace: Workspace):
        """Shared presets of the workspace, and the user's own personal ones."""
        return self.filter(workspace=workspace).filter(models.Q(shared=True) | models.Q(owner=user))


class Preset(models.Model):
    """A saved shot a creator or team reuses; every save is a new version."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="presets")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    name = models.CharField(max_length=80)
    shared = models.BooleanField(default=False)
    uses = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PresetQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "owner", "name"], name="one_preset_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def latest(self) -> "PresetVersion":
        return self.versions.order_by("-number").first()


class PresetVersion(models.Model):
    preset = models.ForeignKey(Preset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    fields = models.JSONField(default=dict)  # the SMCLA fields, free prompt, dialogue, audio
    render_settings = models.JSONField(default=dict)  # provider, model, size, seconds
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["preset", "number"], name="one_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.preset} v{self.number}"


# The three passes creators review a take in, each a pass or fail with a note.
PASSES = {
    "composition": "Composition and intent",
    "technical": "Technical quality: resolution, artifacts, temporal consistency",
    "physics": "Lighting, physics, audio sync",
}


class Review(models.Model):
    """What one member says about a take: a rating from 1 to 5 and the three passes
    (each passed, failed or not yet looked at, with a note). One per member and take."""

    take = models.ForeignKey(Take, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    composition_ok = models.BooleanField(null=True, blank=True)
    composition_note = models.TextField(blank=True)
    technical_ok = models.BooleanField(null=True, blank=True)
    technical_note = models.TextField(blank=True)
    physics_ok = models.BooleanField(null=True, blank=True)
    physics_note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["take", "reviewer"], name="one_review_per_member"),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="rating_one_to_five",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on take {self.take_id}: {self.rating or '–'}"


class Circle(models.Model):
    """The circled take: the one chosen among its siblings (the takes made from the same
    parent). At most one per parent; a first take (no parent) is circled on its own."""

    take = models.OneToOneField(Take, on_delete=models.CASCADE, related_name="circle")
    # The sibling group: the take's parent at the time it was circled.
    parent = models.ForeignKey(
        Take, null=True, blank=True, on_delete=models.CASCADE, related_name="circled_child"
    )
    circled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["parent"], condition=models.Q(parent__isnull=False), name="one_circle"
            )
        ]

    def __str__(self) -> str:
        return f"take {self.take_id} circled"


# --- Folders, filing, stars, tags, trash and share links (the gallery; issue 13) ----------
# Kept as one block: other library models (reviews, ratings) live in blocks of their own.

NAME_LIMIT = 120  # folder names
TAG_LIMIT = 40


class FolderQuerySet(models.QuerySet):
    def visible_to(self, user, workspace: Workspace):
        """The workspace's shared folders and ``user``'s own personal ones (only the shared
        ones for nobody: the shell without --as, an anonymous visitor)."""
        folders = self.filter(workspace=workspace)
        if user is None or not user.is_authenticated:
            return folders.filter(owner=None)
        return folders.filter(models.Q(owner=None) | models.Q(owner=user))


class Folder(models.Model):
    """A folder of a workspace's takes; folders nest (``parent`` None: at the top).

    Two areas: shared folders (``owner`` None), which every member sees, and each member's
    personal folders (``owner`` set), which only that member sees. A folder is always in its
    parent's area (folders.py keeps a subtree's owner whole when it moves)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="folders")
    # A personal folder goes with its owner's account; until then nobody else ever sees it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="personal_folders",
    )
    # People delete a folder through folders.delete_folder(), which rehomes what it holds
    # first; CASCADE is for a workspace going as a whole (PROTECT would block that).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    name = models.CharField(max_length=NAME_LIMIT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FolderQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "parent", "name"], name="one_folder_name_per_parent"
            ),
            models.UniqueConstraint(
                fields=["workspace", "name"],
                condition=models.Q(parent=None, owner=None),
                name="one_shared_top_folder_name",
            ),
            models.UniqueConstraint(
                fields=["workspace", "owner", "name"],
                condition=models.Q(parent=None, owner__isnull=False),
                name="one_personal_top_folder_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TakeFiling(models.Model):
    """Where a take is filed: one home each (tags cut across)."""

    take = models.OneToOneField(Take, on_delete=models.CASCADE, related_name="filing")
    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="filings")
    filed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"take {self.take_id} in {self.folder_id}"


class Star(models.Model):
    """A person's favourite: stars are per user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    take = models.ForeignKey(Take, on_delete=models.CASCADE, related_name="stars")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "take"], name="one_star_per_user")]

    def __str__(self) -> str:
        return f"{self.user} ★ take {self.take_id}"


class Tag(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=TAG_LIMIT)
    takes = models.ManyToManyField(Take, through="TakeTag", related_name="tags")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="one_tag_name")]

    def __str__(self) -> str:
        return self.name


class TakeTag(models.Model):
    take = models.ForeignKey(Take, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["take", "tag"], name="one_tag_per_take")]

    def __str__(self) -> str:
        return f"{self.tag_id} on take {self.take_id}"


class TrashedTake(models.Model):
    """A take someone deleted: out of the gallery, restorable until purged (library/trash.py).

    A purged take keeps this row for good: its media are gone and it never comes back to the
    library, while the take itself stays studio's record (prompt, cost, lineage)."""

    take = models.OneToOneField(Take, on_delete=models.CASCADE, related_name="trashed")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(auto_now_add=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"take {self.take_id} (trash)"


class ShareLink(models.Model):
    """A read-only link to a take or a folder for people without an account.

    Only the SHA-256 of the token is stored: the link itself is shown once, at creation.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="shares")
    take = models.ForeignKey(
        Take, null=True, blank=True, on_delete=models.CASCADE, related_name="shares"
    )
    folder = models.ForeignKey(
        Folder, null=True, blank=True, on_delete=models.CASCADE, related_name="shares"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    show_prompt = models.BooleanField(default=False)
    allow_download = models.BooleanField(default=False)
    # A review link: visitors (asked for a name) may pick a take and leave comments.
    review = models.BooleanField(default=False)
    # Django's password hash ("" when the link needs none); wrong tries are counted per link.
    password_hash = models.CharField(max_length=128, blank=True)
    password_failures = models.PositiveSmallIntegerField(default=0)
    password_locked_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    views = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(take__isnull=False, folder__isnull=True)
                | models.Q(take__isnull=True, folder__isnull=False),
                name="share_one_thing",
            )
        ]

    def __str__(self) -> str:
        return f"share {self.pk} of {'take' if self.take_id else 'folder'}"


# --- Client review links: picks and comments left through a share link (issue 13) ---------
# Separate from any member-side reviews or ratings: these come from people without accounts.

REVIEWER_NAME_LIMIT = 60
CLIENT_COMMENT_LIMIT = 2000


class ClientPick(models.Model):
    """The take a client reviewer chose through a review link; one per reviewer per link."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="picks")
    reviewer = models.CharField(max_length=REVIEWER_NAME_LIMIT)
    take = models.ForeignKey(Take, on_delete=models.CASCADE, related_name="client_picks")
    picked_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-picked_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["link", "reviewer"], name="one_pick_per_reviewer")
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} picked take {self.take_id}"


class ClientComment(models.Model):
    """A client reviewer's comment on a take, optionally at a moment of it."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="comments")
    reviewer = models.CharField(max_length=REVIEWER_NAME_LIMIT)
    take = models.ForeignKey(Take, on_delete=models.CASCADE, related_name="client_comments")
    at_seconds = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    text = models.TextField(max_length=CLIENT_COMMENT_LIMIT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.reviewer} on take {self.take_id}"
