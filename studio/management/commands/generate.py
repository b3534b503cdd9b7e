"""Generate a take from the shell: `manage.py generate --subject … [--wait] [--json]`."""

import json
import sys
from pathlib import Path

from studio import budgets, images, money, takes, workspaces
from studio.forms import ShotForm
from studio.management.cli import OneLineErrorsCommand, add_shot_arguments, see_through
from studio.models import Take
from studio.prompts import SHOT_FIELDS
from studio.providers.catalogue import DEFAULT_PROVIDER


class Command(OneLineErrorsCommand):
    help = "Queue a take (and with --wait, see it through to the end)."

    def add_arguments(self, parser):
        add_shot_arguments(parser)
        parser.add_argument("--size", default=None, help="WxH, e.g. 1280x720")
        parser.add_argument("--seconds", default=None, help="clip length, e.g. 8")
        parser.add_argument(
            "--provider", default=DEFAULT_PROVIDER, help="animatic or a provider name"
        )
        parser.add_argument("--model", default="", help="a model the provider serves")
        parser.add_argument("--reference", default=None, help="a first-frame image (PNG/JPEG/WEBP)")
        parser.add_argument("--seed", default=None, help="same shot + seed = same animatic")
        parser.add_argument(
            "--negative-prompt", default="", help="what to keep out (models that take one)"
        )
        parser.add_argument(
            "--silent", action="store_true", help="no sound (models that can switch it off)"
        )
        parser.add_argument("--workspace", default=None, help="workspace slug (default: local)")
        parser.add_argument(
            "--wait", action="store_true", help="see it through and wait for the end"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--timeout",
            type=float,
            default=1800,
            help="with --wait: give up after this many seconds",
        )

    def handle(self, *args, **options):
        workspace = self.workspace_named(options["workspace"])
        form = ShotForm(
            {
                **{name: options[name] for name in SHOT_FIELDS},
                "provider": options["provider"],
                "model": options["model"],
                "size": options["size"] or "",
                "seconds": options["seconds"] or "",
                "seed": options["seed"] or "",
                "negative_prompt": options["negative_prompt"],
                "sound": "off" if options["silent"] else "on",
            },
            workspace=workspace,
            preflight=True,
        )
        if not options["size"]:
            form.data["size"] = form.info.default_size
        if not options["seconds"]:
            form.data["seconds"] = str(form.info.default_seconds)
        if not form.is_valid():
            self.invalid(_first_error(form))
        data = form.cleaned_data
        reference = None
        if options["reference"]:
            if not form.info.image_reference:
                self.invalid(f"--reference: {form.info.label} takes no reference image")
            try:
                reference = images.fit_reference_file(Path(options["reference"]), data["size"])
            except images.ImageRejected as error:
                self.invalid(f"--reference: {error}")
        # Only now, with the input valid, may anything be stored.
        workspace = workspace or workspaces.default_workspace()
        try:
            take = takes.queue_take(
                workspace,
                form.shot(),
                provider=data["provider"],
                model=data["model"],
                size=data["size"],
                seconds=data["seconds"],
                seed=data["seed"],
                reference=reference,
                negative_prompt=data["negative_prompt"],
                sound=data["sound"],
            )
        except budgets.OverBudget as error:
            self.invalid(str(error))
        if not options["json"]:
            cost = money.show(take.estimate, take.workspace) or "unknown (no price on record)"
            self.stdout.write(f"Estimated cost: {cost}")
        if not options["wait"]:
            self._report(take, options["json"], queued=True)
            return
        if not options["json"]:
            self.stderr.write(
                f"Take {take.pk}: {take.provider} {take.model} {take.size}, {take.seconds} s…"
            )
        take = see_through(take.pk, options["timeout"])
        if take is None:
            sys.stderr.write(f"error: the take did not finish in {options['timeout']:g} s\n")
            sys.exit(1)
        self._report(take, options["json"])
        if take.status != "completed":
            sys.exit(1)

    def _report(self, take: Take, as_json: bool, queued: bool = False) -> None:
        path = take.video.path if take.video else None
        if as_json:
            payload = {
                "id": take.pk,
                "status": take.status,
                "path": path,
                "duration": take.probe.get("duration"),
                "width": take.probe.get("width", take.width),
                "height": take.probe.get("height", take.height),
                "workspace": take.workspace.slug,
                "provider": take.provider,
                "model": take.model,
                "provider_video_id": take.remote_id or None,
                "seed": take.seed,
                "error": take.error_message or None,
                "error_code": take.error_code or None,
                "sha256": take.video_sha256 or None,
                "estimate": str(take.estimate) if take.estimate is not None else None,
                "charged": str(take.charged) if take.charged is not None else None,
            }
            self.stdout.write(json.dumps(payload))
        elif queued:
            self.stdout.write(
                f"Queued take {take.pk} in “{take.workspace.slug}”; a running "
                "studio's worker will take it from here."
            )
        elif take.status == "completed":
            self.stdout.write(
                f"Take {take.pk} completed: {path} "
                f"({take.probe.get('duration')} s, {take.size}, charged "
                f"{money.show(take.charged or 0, take.workspace)})"
            )
        else:
            self.stdout.write(f"Take {take.pk} {take.status}: {take.error_message}")


def _first_error(form: ShotForm) -> str:
    for field, errors in form.errors.items():
        return errors[0] if field == "__all__" else f"--{field.replace('_', '-')}: {errors[0]}"
    return "invalid input"
