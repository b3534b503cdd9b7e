"""Provider endpoints from the shell: add, list, check, remove."""

import json
import os
import sys

from studio import workspaces
from studio.management.cli import OneLineErrorsCommand
from studio.models import ProviderEndpoint, Workspace
from studio.providers import endpoints


class Command(OneLineErrorsCommand):
    help = "Manage a workspace's provider endpoints (add, list, check, remove)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add an endpoint")
        add.add_argument("name")
        add.add_argument(
            "--kind",
            default="openai",
            choices=endpoints.KINDS,
            help="; ".join(f"{k}: {h}" for k, h in endpoints.KIND_HELP.items()),
        )
        add.add_argument(
            "--profile",
            default="openai",
            choices=endpoints.PROFILES,
            help="for --kind openai: which /v1/videos flavour (profiles.toml)",
        )
        add.add_argument(
            "--base-url",
            default="",
            help="e.g. https://api.example.com/v1 (fal and ComfyUI have defaults)",
        )
        add.add_argument(
            "--api-key-env",
            default=None,
            help="the environment variable holding the key, never the key itself "
            "(not needed for ComfyUI)",
        )
        add.add_argument("--auth", default=None, choices=["bearer", "api-key"])
        add.add_argument(
            "--models",
            default=None,
            help="comma-separated model ids (default: sora-2, fal-ai/veo3.1 or smoke by kind)",
        )
        add.add_argument(
            "--webhook-secret-env",
            default=None,
            help="the environment variable holding the webhook signing secret (openai kind)",
        )
        add.add_argument(
            "--webhooks",
            action="store_true",
            help="fal: ask for signed callbacks (needs SLATE_PUBLIC_URL)",
        )
        add.add_argument(
            "--profile-map",
            default=None,
            help='JSON corrections to the profile, e.g. {"seconds_format": "int"}',
        )
        add.add_argument(
            "--rpm",
            type=int,
            default=None,
            help="requests per minute allowed; 0: no limit (default: 25, ComfyUI: no limit)",
        )
        add.add_argument(
            "--overrides",
            default=None,
            help='JSON per model, e.g. {"sora-2": {"price": {"default": "0.08"}}}',
        )
        for name in ("list", "check", "remove"):
            action = sub.add_parser(name)
            if name != "list":
                action.add_argument("name")
        for action in sub.choices.values():
            action.add_argument("--workspace", default=None, help="workspace slug (default: local)")
            action.error = parser.error

    def handle(self, *args, action, workspace, **options):
        space = self._workspace(workspace, create=action == "add")
        if action == "add":
            return self._add(space, options)
        if action == "list":
            return self._list(space)
        endpoint = space.endpoints.filter(name=options["name"]).first() if space else None
        if endpoint is None:
            self.invalid(f"no provider named “{options['name']}” in this workspace")
        if action == "check":
            message = endpoints.check_endpoint(endpoint)
            self.stdout.write(message)
            if "did not answer" in message:
                sys.exit(1)
            # A ComfyUI server: what each template its models use needs and the server lacks.
            lacking = False
            for template, missing in endpoints.check_templates(endpoint).items():
                if isinstance(missing, str):
                    said = f"can't be checked: {missing.rstrip('.')}."
                else:
                    said = f"the server lacks {', '.join(missing)}." if missing else "ready."
                lacking = lacking or bool(missing)
                self.stdout.write(f"Template “{template}”: {said}")
            if lacking:
                sys.exit(1)
        else:
            try:
                endpoints.remove_endpoint(endpoint)
            except endpoints.EndpointInvalid as error:
                self.invalid(str(error))
            self.stdout.write(f"Removed “{endpoint.name}”.")

    def _workspace(self, slug, *, create):
        if slug:
            found = Workspace.objects.filter(slug=slug).first()
            if found is None:
                self.invalid(f"no workspace with the slug “{slug}”")
            return found
        found = Workspace.objects.filter(is_default=True).first()
        return found or (workspaces.default_workspace() if create else None)

    def _add(self, workspace, options):
        key = ""
        if options["api_key_env"]:
            key = os.environ.get(options["api_key_env"], "")
            if not key:
                self.invalid(f"--api-key-env: ${options['api_key_env']} is not set (or empty)")
        elif options["kind"] != "comfyui":
            self.invalid("--api-key-env: name the environment variable that holds the key")
        secret = ""
        if options["webhook_secret_env"]:
            secret = os.environ.get(options["webhook_secret_env"], "")
            if not secret:
                self.invalid(f"--webhook-secret-env: ${options['webhook_secret_env']} is not set")
        overrides = self._json_object(options["overrides"], "--overrides", "keyed by model id")
        profile_map = self._json_object(options["profile_map"], "--profile-map", "of profile keys")
        models = options["models"] or endpoints.DEFAULT_MODELS[options["kind"]]
        try:
            endpoint = endpoints.add_endpoint(
                workspace,
                name=options["name"],
                kind=options["kind"],
                base_url=options["base_url"],
                api_key=key,
                auth_style=options["auth"],
                models=models.split(","),
                webhook_secret=secret,
                webhooks=options["webhooks"],
                requests_per_minute=options["rpm"],
                profile=options["profile"],
                profile_overrides=profile_map,
                model_overrides=overrides,
            )
        except endpoints.EndpointInvalid as error:
            self.invalid(str(error))
        flavour = (
            f"{endpoint.kind}/{endpoint.profile}" if endpoint.kind == "openai" else endpoint.kind
        )
        self.stdout.write(
            f"Added “{endpoint.name}” ({flavour}, {endpoint.base_url}, key "
            f"{endpoint.api_key_hint}) to {workspace.slug} with {', '.join(endpoint.model_ids)}."
        )
        wants = endpoint.use_webhooks or endpoint.webhook_secret_encrypted
        if wants and not endpoint.has_webhooks:
            meanwhile = (
                "followed over fal's status stream"
                if endpoints.followed_live(endpoint)
                else "polled"
            )
            self.stderr.write(
                "Note: callbacks need SLATE_PUBLIC_URL (this studio's address as the provider "
                f"reaches it); until it is set, takes are {meanwhile}."
            )
        if endpoint.has_webhooks:
            self.stdout.write(
                f"Webhook URL: /hooks/{endpoint.kind}/{endpoint.webhook_token}/ "
                "(prefix it with this studio's public address)"
            )

    def _json_object(self, text, option: str, what: str) -> dict:
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            self.invalid(f"{option}: give a JSON object {what}")
        return value

    def _list(self, workspace):
        rows = ProviderEndpoint.objects.filter(workspace=workspace) if workspace else []
        if not rows:
            self.stdout.write("No providers yet: the local animatic is always there.")
        for endpoint in rows:
            hooks = "webhooks on" if endpoint.has_webhooks else "polling"
            columns = (
                endpoint.name,
                endpoint.kind,
                endpoint.base_url,
                f"key {endpoint.api_key_hint}",
                ",".join(endpoint.model_ids),
                f"{endpoint.requests_per_minute}/min"
                if endpoint.requests_per_minute
                else "no limit",
                hooks,
            )
            self.stdout.write("\t".join(columns))
