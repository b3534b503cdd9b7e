"""Lint a shot from the shell: the same rules the composer shows as you type.

Exit 0 when nothing is an error, 1 otherwise (2 for bad arguments).
"""

import json
import sys

from studio.forms import ShotForm
from studio.management.cli import OneLineErrorsCommand, add_shot_arguments
from studio.prompts import SHOT_FIELDS
from studio.providers.catalogue import DEFAULT_PROVIDER


class Command(OneLineErrorsCommand):
    help = "Check a shot against the prompt rules of thumb (same rules as the studio)."

    def add_arguments(self, parser):
        add_shot_arguments(parser)
        parser.add_argument(
            "--provider",
            default=DEFAULT_PROVIDER,
            help="whose prompt limit applies (animatic or a provider name)",
        )
        parser.add_argument("--model", default="")
        parser.add_argument("--workspace", default=None, help="workspace slug (default: local)")
        parser.add_argument("--json", action="store_true", help="print a JSON list of findings")

    def handle(self, *args, **options):
        workspace = self.workspace_named(options["workspace"])
        data = {name: options[name] for name in SHOT_FIELDS}
        form = ShotForm(
            {**data, "provider": options["provider"], "model": options["model"]},
            workspace=workspace,
        )
        if form.target is None:
            self.invalid(f"unknown provider or model: {options['provider']} {options['model']}")
        findings = form.findings()
        if options["json"]:
            self.stdout.write(json.dumps([finding.as_dict() for finding in findings], indent=2))
        elif not findings:
            self.stdout.write("No findings: the shot reads well.")
        for finding in [] if options["json"] else findings:
            where = f" [{finding.field}]" if finding.field else ""
            self.stdout.write(f"{finding.severity:<8}{finding.rule}{where}: {finding.message}")
            if finding.suggestion:
                self.stdout.write(f"          → {finding.suggestion}")
        if any(finding.severity == "error" for finding in findings):
            sys.exit(1)
