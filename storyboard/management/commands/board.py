"""Storyboards from the shell: create, add cards, show, quote, render, choose, cut, export.

`--json` prints one object; invalid input is one line on stderr and exit code 2;
`--workspace SLUG` picks a workspace (default: the install's local one).
"""

import json
import sys
import time
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from storyboard import assemble, boards, export, renders, shotlist
from storyboard.models import MAX_CARD_SECONDS, Board, BoardRender, Card, CardTake
from studio import money, workspaces
from studio.engine import sweep
from studio.management.cli import OneLineErrorsCommand, add_shot_arguments
from studio.models import ACTIVE_STATUSES, Take, Workspace
from studio.prompts import SHOT_FIELDS, Shot
from studio.tasks import advance_take

WAIT_SECONDS = 1800.0


class Command(OneLineErrorsCommand):
    help = "Storyboards: create, card-add, show, quote, render, choose, cut, export."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="a new board (with --from-file, its cards)")
        create.add_argument("--title", required=True)
        create.add_argument("--from-file", default="", help="a shot list: text, Markdown or CSV")
        card = sub.add_parser("card-add", help="add a card to a board")
        card.add_argument("board", type=int)
        add_shot_arguments(card)
        card.add_argument("--seconds", type=int, required=True)
        card.add_argument("--position", type=int, default=None, help="1 = first (default: last)")
        card.add_argument(
            "--continues",
            action="store_true",
            help="start from the previous card's chosen take's last frame (continuity)",
        )
        show = sub.add_parser("show", help="a board's cards, their takes and chosen ones")
        show.add_argument("board", type=int)
        for name in ("quote", "render"):
            action = sub.add_parser(name, help=f"{name} every card that needs a take")
            action.add_argument("board", type=int)
            action.add_argument("--provider", default=None)
            action.add_argument("--model", default=None)
            action.add_argument(
                "--variations",
                type=int,
                default=1,
                help=f"takes per card, 1 to {renders.MAX_VARIATIONS} (default 1)",
            )
        sub.choices["render"].add_argument("--wait", action="store_true", help="see it through")
        sub.choices["render"].add_argument(
            "--chain",
            action="store_true",
            help="see it through, then render the cards that continue a card just finished, "
            "in order, until none waits (implies --wait)",
        )
        choose = sub.add_parser("choose", help="choose one of a card's takes")
        choose.add_argument("card", type=int)
        choose.add_argument("take", type=int)
        cut = sub.add_parser("cut", help="join the chosen takes into one MP4")
        cut.add_argument("board", type=int)
        cut.add_argument("--wait", action="store_true", help="(the cut is always made at once)")
        out = sub.add_parser("export", help="the board for an editor")
        out.add_argument("board", type=int)
        out.add_argument("--format", required=True, choices=list(export.FORMATS))
        out.add_argument("--out", required=True, help="the file to write")
        for action in sub.choices.values():
            action.add_argument("--json", action="store_true", help="print one JSON object")
            action.add_argument("--workspace", default=None, help="workspace slug (default: local)")
            action.error = lambda message: parser.error(message)

    def handle(self, *args, action, **options):
        slug = options["workspace"]
        workspace = (
            Workspace.objects.filter(slug=slug).first() if slug else workspaces.default_workspace()
        )
        if workspace is None:
            self.invalid(f"no workspace with the slug “{slug}”")
        try:
            result, text = getattr(self, "_" + action.replace("-", "_"))(workspace, options)
        except (
            renders.BoardRefused,
            assemble.CutRefused,
            export.ExportRefused,
            boards.BoardFull,
        ) as error:
            self.invalid(str(error))
        self.stdout.write(json.dumps(result) if options["json"] else text)

    def _board(self, workspace, board_id: int) -> Board:
        board = Board.objects.filter(pk=board_id, workspace=workspace).first()
        if board is None:
            self.invalid(f"no board {board_id} in “{workspace.slug}”")
        board.workspace = workspace
        return board

    def _create(self, workspace, options):
        title = options["title"].strip()[:120]
        if not title:
            self.invalid("--title: give the board a title")
        lines = []
        if options["from_file"]:
            try:
                text = Path(options["from_file"]).read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as error:
                self.invalid(f"--from-file: {error}")
            try:
                lines = shotlist.read(text)
            except shotlist.ShotListInvalid as error:
                self.invalid(f"--from-file: {error}")
        with transaction.atomic():
            board = boards.create_board(workspace, title)
            board.workspace = workspace
            default = boards.info_of(board).default_seconds
            cards = boards.add_cards(
                board,
                [{**line.shot.as_dict(), "seconds": line.seconds or default} for line in lines],
            )
        return {"id": board.pk, "cards": [c.pk for c in cards]}, (
            f"Board {board.pk} “{board.title}” with {len(cards)} card(s)."
        )

    def _card_add(self, workspace, options):
        board = self._board(workspace, options["board"])
        shot = Shot.from_mapping({name: options[name] for name in SHOT_FIELDS})
        if shot.is_empty:
            self.invalid("describe the shot: --subject at least")
        if not 1 <= options["seconds"] <= MAX_CARD_SECONDS:
            self.invalid(f"--seconds: a card lasts 1 to {MAX_CARD_SECONDS} seconds")
        at = None if options["position"] is None else max(options["position"] - 1, 0)
        values = {
            **shot.as_dict(),
            "seconds": options["seconds"],
            "continues": options["continues"],
        }
        card = boards.add_cards(board, [values], at=at)[0]
        return {"id": card.pk, "position": card.position + 1}, (
            f"Card {card.pk} at position {card.position + 1}."
        )

    def _show(self, workspace, options):
        board = self._board(workspace, options["board"])
        cards = boards.board_cards(board)
        found = {
            "id": board.pk,
            "title": board.title,
            "provider": board.provider,
            "model": board.model,
            "size": board.size,
            "style": board.style,
            "running_time": boards.running_time(cards),
            "warnings": boards.warnings(board, cards),
            "cards": [
                _card(card, slot.start)
                for card, slot in zip(cards, boards.timeline(cards), strict=True)
            ],
        }
        lines = [f"{board.title} · {len(cards)} cards · {found['running_time']:g} s"]
        lines += [
            f"{n}. {c['shot']['subject'] or c['shot']['prompt']} ({c['seconds']} s)"
            f" chosen take: {c['chosen'] or '—'}"
            + (f" · starts from an older take of card {n - 1}" if c["continuity_stale"] else "")
            for n, c in enumerate(found["cards"], 1)
        ]
        return found, "\n".join(lines)

    def _quote(self, workspace, options):
        board = self._board(workspace, options["board"])
        quote = renders.quote(
            board, options["provider"], options["model"], variations=options["variations"]
        )
        if quote.errors:
            raise renders.BoardRefused(quote.errors)
        total = quote.total
        found = {
            "total": _money(total),
            "variations": quote.variations,
            "cards": [
                {
                    "card": q.card.pk,
                    "seconds": q.card.seconds,
                    "price": _money(q.price),
                    "price_per_take": _money(q.estimate),
                    "continues_from_take": q.continues_from.pk if q.continues_from else None,
                }
                for q in quote.cards
            ],
            "waiting": quote.waiting,
        }
        lines = [f"{len(quote.cards)} card(s): {_money(total) or 'price unknown'}", *quote.waiting]
        return found, "\n".join(lines)

    def _render(self, workspace, options):
        board = self._board(workspace, options["board"])
        target = {"provider": options["provider"], "model": options["model"]}
        queued = renders.render_board(board, variations=options["variations"], **target)
        deadline = time.monotonic() + WAIT_SECONDS
        if options["wait"] or options["chain"]:
            self._see_through(queued, deadline)
        # Each round renders the cards that continue one finished in the round before (each
        # priced and held as "Render this card" does); nothing else is retried, so a card
        # whose take failed ends the chain there. n cards need at most n rounds.
        for _ in range(board.cards.count() if options["chain"] else 0):
            ready = [q.card for q in renders.quote(board, **target).cards if q.continues_from]
            if not ready:
                break
            more = [
                take
                for card in ready
                for take in renders.render_board(
                    board, only=card, variations=options["variations"], **target
                )
            ]
            self._see_through(more, deadline)
            queued += more
        by_take = dict(CardTake.objects.filter(take__in=queued).values_list("take_id", "card_id"))
        takes = Take.objects.filter(pk__in=by_take).order_by("pk")
        # Each render's reservation: one for the board, one per card a chain round added.
        made = BoardRender.objects.filter(card_takes__take__in=queued).distinct()
        held = [renders.account_of(r).as_json() for r in made.select_related("reservation")]

        def shown(usd: str) -> str:  # --json keeps the ledger's US dollars
            return money.show(Decimal(usd), workspace)

        found = {
            "takes": [{"card": by_take[t.pk], "take": t.pk, "status": t.status} for t in takes],
            "renders": sorted(held, key=lambda r: r["id"]),
        }
        return found, "\n".join(
            [f"card {r['card']}: take {r['take']} {r['status']}" for r in found["takes"]]
            + [
                f"render {r['id']}: held {shown(r['held'])} · spent {shown(r['spent'])} · "
                f"released {shown(r['released'])}"
                for r in found["renders"]
            ]
        )

    def _see_through(self, queued: list[Take], deadline: float) -> None:
        while Take.objects.filter(
            pk__in=[t.pk for t in queued], status__in=ACTIVE_STATUSES
        ).exists():
            if time.monotonic() > deadline:
                sys.stderr.write("error: the board did not finish in time\n")
                sys.exit(1)
            sweep.sweep()
            for take in Take.objects.filter(
                pk__in=[t.pk for t in queued], status__in=ACTIVE_STATUSES
            ):
                if take.next_check_at is None or take.next_check_at <= timezone.now():
                    advance_take.call(take.pk)
            time.sleep(0.1)

    def _choose(self, workspace, options):
        card = (
            Card.objects.select_related("board")
            .filter(pk=options["card"], board__workspace=workspace)
            .first()
        )
        if card is None:
            self.invalid(f"no card {options['card']} in “{workspace.slug}”")
        try:
            boards.choose(card, options["take"])
        except Http404:
            self.invalid(f"take {options['take']} wasn't made for card {card.pk}")
        return {
            "card": card.pk,
            "take": options["take"],
        }, f"Card {card.pk}: take {options['take']}."

    def _cut(self, workspace, options):
        board = self._board(workspace, options["board"])
        info = assemble.make_cut(board)
        found = {
            "path": board.cut.path,
            "duration": info["duration"],
            "width": info["width"],
            "height": info["height"],
            "cards": len(info["cards"]),
            "method": info["method"],
        }
        return found, f"{found['path']} · {found['duration']:.2f} s"

    def _export(self, workspace, options):
        board = self._board(workspace, options["board"])
        out = Path(options["out"])
        try:
            with out.open("wb") as handle:
                export.export(board, options["format"], handle)
        except (assemble.CutRefused, export.ExportRefused):
            out.unlink(missing_ok=True)
            raise
        return {"path": str(out.resolve()), "format": options["format"]}, str(out)


def _money(amount) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def _card(card: Card, start: float) -> dict:
    return {
        "id": card.pk,
        "position": card.position + 1,
        "start": start,
        "seconds": card.seconds,
        "transition": card.transition,
        "shot": card.shot().as_dict(),
        "inherited": [
            name for name in SHOT_FIELDS if not getattr(card, name) and card.board.style_value(name)
        ],
        "takes": [
            {"id": link.take_id, "status": link.take.status} for link in card.card_takes.all()
        ],
        "chosen": card.chosen_take_id,
        "continues": card.continues and card.position > 0,
        # Its chosen take starts from an older take of the card before: re-render it.
        "continuity_stale": card.continuity_stale,
    }
