"""Operations on takes from the shell, and their family trees:

    manage.py take remix ID [--subject … --audio …]    manage.py take extend ID --seconds N
    manage.py take recut ID --start S --end E          manage.py take vary ID --count N
    manage.py take loop ID [--fade S]                  manage.py take blend A B [--seconds S]
    manage.py take tree ID [--json]                    manage.py take diff A B [--json]

Each operation takes ``[--wait] [--json]``; invalid input is one line on stderr, exit 2.
"""

import json
import math
import sys

from studio import lineage
from studio.family import family_tree
from studio.lineage import LineageRefused
from studio.management.cli import OneLineErrorsCommand, add_shot_arguments, see_through
from studio.models import Take, Workspace
from studio.prompts import SHOT_FIELDS

OPERATIONS = ("remix", "extend", "recut", "vary", "loop", "blend")


def seconds(text: str) -> float:
    """Seconds as people type them (decimals allowed); never NaN or infinity."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValueError(text)
    return value


seconds.__name__ = "seconds"  # argparse names the type in its message: "invalid seconds value"


class Command(OneLineErrorsCommand):
    help = "Remix, extend, re-cut, vary, loop or blend a take; show a take's tree or a diff."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        subs = {}
        subs["remix"] = actions.add_parser("remix", help="edit the shot, same settings and seed")
        subs["remix"].add_argument("id", type=int)
        add_shot_arguments(subs["remix"])
        subs["extend"] = actions.add_parser("extend", help="continue from the last frame")
        subs["extend"].add_argument("id", type=int)
        subs["extend"].add_argument("--seconds", type=int, required=True)
        subs["extend"].add_argument("--prompt", default="", help="what happens next")
        subs["recut"] = actions.add_parser("recut", help="trim to in/out points (free)")
        subs["recut"].add_argument("id", type=int)
        subs["recut"].add_argument("--start", type=seconds, required=True)
        subs["recut"].add_argument("--end", type=seconds, required=True)
        subs["vary"] = actions.add_parser("vary", help="2–4 takes of the shot with new seeds")
        subs["vary"].add_argument("id", type=int)
        subs["vary"].add_argument("--count", type=int, default=2)
        subs["loop"] = actions.add_parser("loop", help="a seamless loop (free)")
        subs["loop"].add_argument("id", type=int)
        subs["loop"].add_argument("--fade", type=seconds, default=None, help="crossfade seconds")
        subs["blend"] = actions.add_parser("blend", help="crossfade take A into take B (free)")
        subs["blend"].add_argument("id", type=int)
        subs["blend"].add_argument("other", type=int)
        subs["blend"].add_argument("--seconds", type=seconds, default=None)
        subs["tree"] = actions.add_parser("tree", help="the take's whole family tree")
        subs["tree"].add_argument("id", type=int)
        subs["diff"] = actions.add_parser("diff", help="what changed from take A to take B")
        subs["diff"].add_argument("id", type=int)
        subs["diff"].add_argument("other", type=int)
        for name, sub in subs.items():
            # One line, exit 2, like the command itself (whose error is set after this).
            sub.error = lambda message: parser.error(message)
            sub.add_argument("--workspace", default=None, help="workspace slug (default: local)")
            sub.add_argument("--json", action="store_true", help="print one JSON object")
            if name in OPERATIONS:
                sub.add_argument("--wait", action="store_true", help="see it through to the end")
                sub.add_argument("--timeout", type=float, default=1800)

    def handle(self, *args, **options):
        workspace = self.workspace_named(options["workspace"])
        if workspace is None:
            self.invalid("no takes yet")
        take = self._take(workspace, options["id"])
        action = options["action"]
        if action == "tree":
            return self._tree(take, options["json"])
        if action == "diff":
            return self._diff(take, self._take(workspace, options["other"]), options["json"])
        try:
            made = self._operate(action, take, workspace, options)
        except LineageRefused as error:
            self.invalid(str(error))
        if options["wait"]:
            made = [see_through(t.pk, options["timeout"]) or t for t in made]
            for t in made:
                t.refresh_from_db()
        self._report(made, options["json"])
        if options["wait"] and any(t.status != "completed" for t in made):
            sys.exit(1)

    def _take(self, workspace: Workspace, take_id: int) -> Take:
        take = Take.objects.filter(workspace=workspace, pk=take_id).first()
        if take is None:
            self.invalid(f"no take {take_id} in “{workspace.slug}”")
        return take

    def _operate(self, action: str, take: Take, workspace: Workspace, options) -> list[Take]:
        match action:
            case "remix":
                changes = {n: options[n] for n in SHOT_FIELDS if options[n] != ""}
                return [lineage.remix(take, changes)]
            case "extend":
                return [lineage.extend(take, options["seconds"], prompt=options["prompt"])]
            case "recut":
                return [lineage.recut(take, options["start"], options["end"])]
            case "vary":
                return lineage.variations(take, options["count"])
            case "loop":
                return [lineage.loop(take, options["fade"])]
            case _:
                other = self._take(workspace, options["other"])
                return [lineage.blend(take, other, options["seconds"])]

    def _report(self, made: list[Take], as_json: bool) -> None:
        rows = [_describe(take) for take in made]
        if as_json:
            self.stdout.write(json.dumps(rows[0] if len(rows) == 1 else {"takes": rows}))
            return
        for row in rows:
            parents = " + ".join(f"#{p}" for p in row["parents"])
            where = f": {row['path']} ({row['duration']} s)" if row["path"] else ""
            self.stdout.write(
                f"Take {row['id']} ({row['operation']}, {row['method']}, from {parents}) "
                f"{row['status']}{where}"
            )

    def _tree(self, take: Take, as_json: bool) -> None:
        root = family_tree(take)
        if as_json:
            self.stdout.write(json.dumps(root.as_dict()))
            return
        for node in root.walk():
            t = node.take
            mark = "*" if t.pk == take.pk else " "
            self.stdout.write(
                f"{mark} {'  ' * node.depth}#{t.pk} {t.operation} ({t.method}) {t.status}"
            )

    def _diff(self, first: Take, second: Take, as_json: bool) -> None:
        changed = lineage.diff(first, second)
        if as_json:
            self.stdout.write(json.dumps({"a": first.pk, "b": second.pk, "changed": changed}))
            return
        for row in changed:
            self.stdout.write(f"{row['field']}: {row['a']!r} → {row['b']!r}")
        if not changed:
            self.stdout.write("No differences in how the two takes were asked for.")


def _describe(take: Take) -> dict:
    return {
        "id": take.pk,
        "parents": [p for p in (take.parent_id, take.blend_with_id) if p],
        "operation": take.operation,
        "method": take.method,
        "status": take.status,
        "path": take.video.path if take.video else None,
        "duration": take.probe.get("duration"),
        "width": take.probe.get("width", take.width),
        "height": take.probe.get("height", take.height),
        "estimate": str(take.estimate) if take.estimate is not None else None,
        "error": take.error_message or None,
    }
