import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from .inputs import parse_size


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


class Workspace(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    # The install's local workspace: where the CLI works when no --workspace
    # is given. At most one exists.
    is_default = models.BooleanField(default=False)
    # Pages, caps and reports are in this currency (ISO 4217) at this rate (units per US
    # dollar, the price list's and the ledger's currency): money.py converts and formats.
    currency = models.CharField(max_length=3, default="USD")
    rate = models.DecimalField(max_digits=16, decimal_places=6, default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="workspaces"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_workspace"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def can_edit(self) -> bool:
        return self.role in (Role.OWNER, Role.EDITOR)


class AuthStyle(models.TextChoices):
    BEARER = "bearer", "Authorization: Bearer <key>"
    API_KEY = "api-key", "api-key: <key> (Azure)"


class ProviderEndpoint(models.Model):
    """A provider a workspace generates with: where it is, how to sign in, which models."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="endpoints")
    name = models.SlugField(max_length=40)
    kind = models.CharField(max_length=20, default="openai")
    # For kind "openai": which OpenAI-compatible flavour (profiles.toml), and corrections.
    profile = models.CharField(max_length=20, default="openai")
    profile_overrides = models.JSONField(default=dict, blank=True)
    base_url = models.URLField(max_length=300)
    auth_style = models.CharField(
        max_length=10, choices=AuthStyle.choices, default=AuthStyle.BEARER
    )
    api_key_encrypted = models.TextField()
    api_key_hint = models.CharField(max_length=16)
    webhook_secret_encrypted = models.TextField(blank=True)
    # The public part of this endpoint's webhook URL: random, so it reveals nothing.
    webhook_token = models.CharField(max_length=32, unique=True)
    model_ids = models.JSONField(default=list)
    model_overrides = models.JSONField(default=dict, blank=True)
    # Providers that sign with a published key (fal) need no secret: just a switch.
    use_webhooks = models.BooleanField(default=False)
    requests_per_minute = models.PositiveIntegerField(default=25)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="one_endpoint_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def callbacks_per_request(self) -> bool:
        """fal and OpenRouter are told where to call back with each job (so Slate needs its
        public address); OpenAI's webhooks are set up once in the provider's dashboard."""
        return self.kind == "fal" or (self.kind == "openai" and self.profile == "openrouter")

    @property
    def has_webhooks(self) -> bool:
        """Whether callbacks can reach this endpoint's takes. Without them Slate polls at
        its usual pace (or follows fal's status stream), rather than waiting for callbacks
        that can't arrive."""
        if self.callbacks_per_request and not settings.SLATE_PUBLIC_URL:
            return False
        return bool(self.webhook_secret_encrypted) or self.use_webhooks


def reference_path(instance: "Reference", filename: str) -> str:
    # A generated name: what the upload was called is only ever a label.
    return f"references/{instance.workspace_id}/{secrets.token_hex(12)}.jpg"


def fitted_reference_path(instance: "Take", filename: str) -> str:
    return f"takes/{instance.workspace_id}/first-frame-{secrets.token_hex(8)}.jpg"


def fitted_end_frame_path(instance: "Take", filename: str) -> str:
    return f"takes/{instance.workspace_id}/last-frame-{secrets.token_hex(8)}.jpg"


class Reference(models.Model):
    """An uploaded first-frame image, cleaned (see images.py) and kept for reuse."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="references")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    label = models.CharField(max_length=80)  # the upload's name, made harmless; never a path
    image = models.FileField(upload_to=reference_path, max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    source_format = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.label


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    IN_PROGRESS = "in_progress", "Rendering"
    CANCELLING = "cancelling", "Cancelling"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    REFUSED = "refused", "Refused"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


STATUS_LABELS = dict(Status.choices)
ACTIVE_STATUSES = (Status.QUEUED, Status.SUBMITTING, Status.IN_PROGRESS, Status.CANCELLING)
TERMINAL_STATUSES = (
    Status.COMPLETED,
    Status.FAILED,
    Status.REFUSED,
    Status.CANCELLED,
    Status.EXPIRED,
)


RECENT_TAKES = 24  # what the studio page and its live list show


class Operation(models.TextChoices):
    """What made a take: a first generation, or an operation on another take."""

    GENERATE = "generate", "Generate"
    REMIX = "remix", "Remix"
    EXTEND = "extend", "Extend"
    RECUT = "recut", "Re-cut"
    VARIATION = "variation", "Variation"
    LOOP = "loop", "Loop"
    BLEND = "blend", "Blend"


class Method(models.TextChoices):
    """Who did the operation: the provider itself, Slate from generations, or Slate's own
    media work on files it already has (free)."""

    NATIVE = "native", "Native"
    CHAINED = "chained", "Chained"
    LOCAL = "local", "Local"


class TakeQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)

    def recent(self, workspace_id: int):
        """The workspace's newest takes, as the studio page and its live list show them."""
        return self.filter(workspace_id=workspace_id)[:RECENT_TAKES]

    def family(self, take: "Take"):
        """Every take of ``take``'s tree, its root first: one query (root + ``root`` FK)."""
        root_id = take.root_id or take.pk
        return self.filter(Q(pk=root_id) | Q(root_id=root_id)).order_by("created_at", "id")


class Take(models.Model):
    """One generated video: the shot as it was asked for, and what came of it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="takes")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    # The prompt snapshot: SMCLA fields, free prompt, dialogue, composed text.
    subject = models.TextField(blank=True)
    motion = models.TextField(blank=True)
    camera = models.TextField(blank=True)
    lighting = models.TextField(blank=True)
    atmosphere = models.TextField(blank=True)
    prompt = models.TextField(blank=True)
    dialogue = models.TextField(blank=True)
    audio = models.TextField(blank=True)
    composed_prompt = models.TextField()
    # Sent only to models that take one (catalogue: wire.negative_prompt).
    negative_prompt = models.TextField(blank=True)
    # Whether the model should render sound, where it can be switched (it often costs more).
    sound = models.BooleanField(default=True)

    provider = models.CharField(max_length=40, default="animatic")  # animatic or an endpoint name
    endpoint = models.ForeignKey(
        ProviderEndpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="takes"
    )
    model = models.CharField(max_length=80, blank=True)
    size = models.CharField(max_length=16)
    seconds = models.PositiveSmallIntegerField()
    seed = models.BigIntegerField()
    # A first-frame image, already fitted to the take's exact size, and where it came from.
    reference = models.FileField(upload_to=fitted_reference_path, blank=True, max_length=255)
    reference_source = models.ForeignKey(
        Reference, null=True, blank=True, on_delete=models.SET_NULL, related_name="takes"
    )
    reference_fit = models.JSONField(default=dict, blank=True)
    # A last-frame image for a model that takes one, fitted the same way (a native loop:
    # its first frame again; a bridging blend: the second take's first frame).
    end_frame = models.FileField(upload_to=fitted_end_frame_path, blank=True, max_length=255)

    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(default=0)
    # Where a provider with no percentage says the job is: shown instead of inventing one.
    progress_known = models.BooleanField(default=True)
    stage = models.CharField(max_length=60, blank=True)
    queue_position = models.IntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    # Who is working on it, until when (engine/leases.py, engine/sweep.py), how often tried.
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_owner = models.CharField(max_length=80, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)

    # The remote job: submitted exactly once (see engine/submit.py), then followed.
    client_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    remote_id = models.CharField(max_length=128, blank=True, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submit_uncertain = models.BooleanField(default=False)
    create_calls = models.PositiveSmallIntegerField(default=0)
    create_sent_at = models.DateTimeField(null=True, blank=True)  # the last create's send time
    # Which provider account the job lives in (a fingerprint, never the key): two takes
    # of one account can never claim the same provider job.
    credential = models.CharField(max_length=32, blank=True)
    retries = models.PositiveSmallIntegerField(default=0)  # steps that must wait and try again
    lease_losses = models.PositiveSmallIntegerField(default=0)  # workers lost mid-step
    provider_calls = models.PositiveIntegerField(default=0)
    remote_status = models.CharField(max_length=32, blank=True)
    remote_data = models.JSONField(default=dict, blank=True)  # status/result URLs, outputs
    webhook_hint = models.CharField(max_length=32, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    estimate = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    charged = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)

    video = models.FileField(upload_to="takes/", blank=True, max_length=255)
    poster = models.FileField(upload_to="takes/", blank=True, max_length=255)
    spritesheet = models.FileField(upload_to="takes/", blank=True, max_length=255)
    video_sha256 = models.CharField(max_length=64, blank=True)
    probe = models.JSONField(default=dict, blank=True)

    # Lineage: the take this one was made from, the first take of its tree (null: this
    # take is a root), what made it and who did it. A blend's second source, in order,
    # is ``blend_with``; ``edit`` holds what the operation was asked (in/out points…).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="descendants"
    )
    blend_with = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="blended_into"
    )
    operation = models.CharField(
        max_length=12, choices=Operation.choices, default=Operation.GENERATE
    )
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.NATIVE)
    edit = models.JSONField(default=dict, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TakeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-created_at"]),
            # A member's spend this month (budgets.py: their cap, the usage page).
            models.Index(fields=["workspace", "created_by", "created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "remote_id"],
                condition=~Q(remote_id=""),
                name="one_take_per_provider_job",
            )
        ]

    def __str__(self) -> str:
        return f"Take {self.pk} ({self.status})"

    @property
    def width(self) -> int:
        return parse_size(self.size)[0]

    @property
    def height(self) -> int:
        return parse_size(self.size)[1]

    @property
    def root_pk(self) -> int:
        return self.root_id or self.pk

    @property
    def is_local_edit(self) -> bool:
        """Made by Slate's own media work from its sources' files, not rendered."""
        return self.method == Method.LOCAL

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def status_label(self) -> str:
        """The status as a badge says it: a job still in the provider's queue isn't rendering."""
        if self.status == Status.IN_PROGRESS and self.stage == "queued":
            return "In queue"
        if self.status == Status.IN_PROGRESS and self.stage == "sent":
            return "Sent"  # its first look says whether it waits or runs
        # Not get_status_display(): it hashes the choices on every call, and a board page
        # asks this of hundreds of takes, several times each.
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def title(self) -> str:
        """A short human name for lists: the subject, else the start of the prompt."""
        text = self.subject or self.prompt or self.composed_prompt
        text = " ".join(text.split())
        return text if len(text) <= 60 else text[:59].rstrip() + "…"


class LedgerKind(models.TextChoices):
    HOLD = "hold", "Hold"
    CHARGE = "charge", "Charge"
    RELEASE = "release", "Release"


class LedgerEntry(models.Model):
    """Money reserved, spent or given back for a take (see ledger.py).

    One hold, at most one charge and at most one release per take, enforced by
    the database: a take can never be charged twice. A reservation (a hold with no
    take, e.g. a whole board render) is drawn from by the holds of the takes made
    under it (``drawn_from``); its one release gives back what none of them drew.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="ledger")
    take = models.ForeignKey(
        Take, null=True, blank=True, on_delete=models.CASCADE, related_name="ledger"
    )
    drawn_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.RESTRICT, related_name="draws"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    kind = models.CharField(max_length=10, choices=LedgerKind.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=4)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["take", "kind"], name="one_entry_per_kind_per_take"),
            # A reservation is released (what none of its takes drew) once.
            models.UniqueConstraint(
                fields=["drawn_from", "kind"],
                condition=models.Q(take__isnull=True),
                name="one_release_per_reservation",
            ),
            models.CheckConstraint(
                condition=models.Q(take__isnull=False)
                | models.Q(kind="hold", drawn_from=None)
                | models.Q(kind="release", drawn_from__isnull=False),
                name="entry_of_a_take_or_a_reservation",
            ),
        ]

    def __str__(self) -> str:
        if self.take_id is None:
            return f"{self.kind} {self.amount} for reservation {self.drawn_from_id or self.pk}"
        return f"{self.kind} {self.amount} for take {self.take_id}"


class WebhookDelivery(models.Model):
    """A webhook we accepted, kept so a retry with the same id is applied once."""

    endpoint = models.ForeignKey(ProviderEndpoint, on_delete=models.CASCADE)
    webhook_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=80)
    remote_id = models.CharField(max_length=128, blank=True)
    # Slate's own key for the take, from the callback URL: finds a job whose create
    # answer was lost (providers that can't be listed).
    client_key = models.CharField(max_length=64, blank=True, db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "webhook_id"], name="one_delivery_per_id")
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.webhook_id}"


class RateLimitBucket(models.Model):
    """One provider credential's request log for the shared rate limiter (ratelimit.py)."""

    key = models.CharField(max_length=120, unique=True)
    paused_until = models.FloatField(default=0)
    recent = models.JSONField(default=list)  # request times (unix seconds) in the window

    def __str__(self) -> str:
        return self.key


BUDGET_THRESHOLDS = [50, 80, 100]  # percent of the workspace's monthly cap that send an alert


def default_thresholds() -> list[int]:
    return list(BUDGET_THRESHOLDS)


class Budget(models.Model):
    """A workspace's monthly spending caps (budgets.py). Its row is also the lock every hold
    of the workspace takes, so holds are counted one at a time against the caps."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="budget")
    # In the catalogue's currency (US dollars). None: no cap for the whole workspace.
    monthly_cap = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    thresholds = models.JSONField(default=default_thresholds, blank=True)  # percents
    # Months roll over at midnight on the 1st in this zone.
    time_zone = models.CharField(max_length=64, default="UTC")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Budget of {self.workspace_id}: {self.monthly_cap}"


class MemberCap(models.Model):
    """One member's own monthly cap in a workspace, on top of the workspace's."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="member_caps")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    monthly_cap = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["budget", "user"], name="one_cap_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.monthly_cap}"


class BudgetAlert(models.Model):
    """A threshold of the workspace's monthly cap that was reached: once per month each; with
    ``member``, a threshold of that member's own monthly cap (once per member and month)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="budget_alerts")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    month = models.CharField(max_length=7)  # YYYY-MM, in the budget's time zone
    threshold = models.PositiveSmallIntegerField()  # percent
    spent = models.DecimalField(max_digits=10, decimal_places=4)
    cap = models.DecimalField(max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "month", "threshold"],
                condition=models.Q(member__isnull=True),
                name="one_alert_per_threshold",
            ),
            models.UniqueConstraint(
                fields=["workspace", "member", "month", "threshold"],
                condition=models.Q(member__isnull=False),
                name="one_member_alert_per_threshold",
            ),
        ]

    def __str__(self) -> str:
        whose = f" (member {self.member_id})" if self.member_id else ""
        return f"{self.threshold}% of {self.cap} in {self.month}{whose}"
