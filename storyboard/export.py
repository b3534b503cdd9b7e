"""Hand a board to an editor: an OpenTimelineIO timeline, an EDL, FCP XML, or a project bundle.

The timeline has one video and one audio track, a clip per card referencing its chosen
take by a path relative to the bundle (``media/…``), and the card's shot, prompt, model
and cost in the clip's metadata (``metadata["slate"]``). Crossfades become dissolves.
"""

import json
import zipfile
from decimal import Decimal
from typing import BinaryIO

import opentimelineio as otio

from .assemble import ready_cards
from .boards import crossfades
from .models import Board, Card

FORMATS = {
    "otio": ("application/json", "otio"),
    "edl": ("text/plain; charset=utf-8", "edl"),
    "fcpxml": ("application/xml", "xml"),
    "bundle": ("application/zip", "zip"),
}


class ExportRefused(ValueError):
    pass


# Final Cut Pro 7's own names for the sound's crossfade (the adapter writes every
# transition as a video dissolve unless told).
AUDIO_CROSSFADE = {
    "name": "Cross Fade (+3dB)",
    "effectid": "KGAudioTransCrossFade3dB",
    "effecttype": "transition",
    "mediatype": "audio",
}


def media_name(number: int, card: Card) -> str:
    return f"media/card-{number:02d}-take-{card.chosen_take_id}.mp4"


def _rate(card: Card) -> float:
    return float((card.chosen_take.probe or {}).get("fps") or 24)


def _seconds(card: Card) -> float:
    take = card.chosen_take
    return float((take.probe or {}).get("duration") or take.seconds)


def _metadata(number: int, card: Card) -> dict:
    take = card.chosen_take
    return {
        "slate": {
            "card": number,
            "card_id": card.pk,
            "take": take.pk,
            "shot": card.shot().as_dict(),
            "prompt": take.composed_prompt,
            "provider": take.provider,
            "model": take.model,
            "size": take.size,
            "seconds": card.seconds,
            "cost": str(take.charged if take.charged is not None else Decimal("0")),
            "transition": card.transition,
        }
    }


def _frames(seconds: float, rate: float) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(round(seconds * rate), rate)


def timeline(board: Board, cards: list[Card]) -> otio.schema.Timeline:
    found = otio.schema.Timeline(name=board.title, metadata={"slate": {"board": board.pk}})
    video = otio.schema.Track(name="Video", kind=otio.schema.TrackKind.Video)
    audio = otio.schema.Track(name="Audio", kind=otio.schema.TrackKind.Audio)
    # A crossfade draws on the media either side of the cut (OTIO's handles): each card
    # gives up half the fade at the join, so the timeline lasts as long as the cut does
    # and no clip asks for a frame its take doesn't have (like the cut, a fade takes at
    # most half of either take).
    halves = [
        min(fade, _seconds(leaving) / 2, _seconds(entering) / 2) / 2
        for fade, leaving, entering in zip(crossfades(cards), cards, cards[1:], strict=False)
    ]
    for number, card in enumerate(cards, 1):
        rate = _rate(card)
        available = otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rate), _frames(_seconds(card), rate)
        )
        head = _frames(halves[number - 2], rate) if number > 1 else _frames(0, rate)
        tail = _frames(halves[number - 1], rate) if number < len(cards) else _frames(0, rate)
        used = otio.opentime.TimeRange(head, available.duration - head - tail)
        for track in (video, audio):
            reference = otio.schema.ExternalReference(
                target_url=media_name(number, card), available_range=available
            )
            track.append(
                otio.schema.Clip(
                    name=f"{number:02d} {card.title}",
                    media_reference=reference,
                    source_range=used,
                    metadata=_metadata(number, card),
                )
            )
        if tail.value:
            for track in (video, audio):
                track.append(
                    otio.schema.Transition(
                        name="Crossfade",
                        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                        in_offset=tail,
                        out_offset=tail,
                    )
                )
    found.tracks.append(video)
    found.tracks.append(audio)
    return found


def export(board: Board, kind: str, out: BinaryIO) -> None:
    """Write the board as ``kind`` (otio, edl, fcpxml or bundle) to ``out``; refused (CutRefused)
    like the cut when a card has no finished chosen take."""
    if kind not in FORMATS:
        raise ExportRefused(f"Export as {', '.join(FORMATS)}; “{kind[:20]}” isn't one of them.")
    cards = ready_cards(board)
    found = timeline(board, cards)
    if kind == "otio":
        out.write(otio.adapters.write_to_string(found, "otio_json").encode())
    elif kind == "edl":
        video_only = otio.schema.Timeline(name=board.title)
        video_only.tracks.append(found.tracks[0].deepcopy())
        out.write(otio.adapters.write_to_string(video_only, "cmx_3600").encode())
    elif kind == "fcpxml":
        out.write(otio.adapters.write_to_string(_for_fcp(found), "fcp_xml").encode())
    else:
        _bundle(board, cards, found, out)


def _for_fcp(found: otio.schema.Timeline) -> otio.schema.Timeline:
    """The timeline as the FCP XML adapter needs it: each clip says which of its file's
    tracks it plays (``sourcetrack``, as Premiere writes it), which also keeps the adapter
    from folding a card's sound clip into its picture clip (it shares identical clips by
    id), and the sound's crossfades are audio transitions."""
    found = found.deepcopy()
    for track in found.tracks:
        kind = "audio" if track.kind == otio.schema.TrackKind.Audio else "video"
        for item in track:
            if isinstance(item, otio.schema.Clip):
                source = {"mediatype": kind, "trackindex": 1}
                item.metadata["fcp_xml"] = {"sourcetrack": source}
            elif kind == "audio":
                item.metadata["fcp_xml"] = {"effect": AUDIO_CROSSFADE}
    return found


def _bundle(board: Board, cards: list[Card], found: otio.schema.Timeline, out: BinaryIO):
    """A zip an editor can open: the media, the .otio (paths relative to the zip's top)
    and a JSON manifest."""
    manifest = {
        "board": {"id": board.pk, "title": board.title, "notes": board.notes},
        "timeline": "board.otio",
        "cards": [
            {"media": media_name(number, card), **_metadata(number, card)["slate"]}
            for number, card in enumerate(cards, 1)
        ],
    }
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("board.otio", otio.adapters.write_to_string(found, "otio_json"))
        bundle.writestr("manifest.json", json.dumps(manifest, indent=2))
        for number, card in enumerate(cards, 1):
            # MP4s are compressed already: stored (ZipInfo's default), not deflated again.
            entry = zipfile.ZipInfo(media_name(number, card))
            with card.chosen_take.video.open("rb") as source, bundle.open(entry, "w") as target:
                while chunk := source.read(1 << 20):
                    target.write(chunk)
