"""Editor exports read back with OpenTimelineIO: a clip per card, their lengths, metadata."""

import io
import json
import zipfile
from xml.etree import ElementTree

import opentimelineio as otio
from django.urls import reverse

from storyboard.models import Card


def download(client, board, kind: str) -> bytes:
    response = client.get(
        reverse("storyboard:export", args=["harbour", board.pk]), {"format": kind}
    )
    assert response.status_code == 200, response.content[:300]
    assert "attachment" in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def test_the_otio_has_a_clip_per_card_on_a_video_and_an_audio_track(
    client_for, personas, board, cards, finished_take
):
    takes = [finished_take(cards[0], 1), finished_take(cards[1], 2), finished_take(cards[2], 1)]
    Card.objects.filter(pk=cards[0].pk).update(transition="crossfade", transition_seconds=0.5)
    timeline = otio.adapters.read_from_string(
        download(client_for(personas["viewer"]), board, "otio").decode(), "otio_json"
    )
    video, audio = timeline.tracks
    assert (video.kind, audio.kind) == ("Video", "Audio")
    clips = list(video.find_clips())
    assert len(clips) == 3 and len(list(audio.find_clips())) == 3
    # The crossfade overlaps the first two takes by 0.5 s, half from each, as the cut does.
    assert [c.media_reference.available_range.duration.to_seconds() for c in clips] == [1, 2, 1]
    assert [c.source_range.duration.to_seconds() for c in clips] == [0.75, 1.75, 1]
    assert [c.source_range.start_time.to_seconds() for c in clips] == [0, 0.25, 0]
    assert video.duration().to_seconds() == audio.duration().to_seconds() == 3.5
    assert [c.media_reference.target_url for c in clips] == [
        f"media/card-01-take-{takes[0].pk}.mp4",
        f"media/card-02-take-{takes[1].pk}.mp4",
        f"media/card-03-take-{takes[2].pk}.mp4",
    ]
    slate = clips[1].metadata["slate"]
    assert slate["take"] == takes[1].pk and slate["shot"]["camera"] == "tracking shot"
    assert slate["model"] == "" and slate["cost"] == "0"
    for track in (video, audio):
        assert [type(item).__name__ for item in track] == ["Clip", "Transition", "Clip", "Clip"]


def test_the_edl_lists_the_cards_in_order(client_for, personas, board, cards, finished_take):
    for card in cards:
        finished_take(card, 1)
    edl = download(client_for(personas["editor"]), board, "edl").decode()
    assert edl.startswith("TITLE: Harbour at dawn")
    assert [line.split()[0] for line in edl.splitlines() if line[:3].isdigit()] == [
        "001",
        "002",
        "003",
    ]


def test_the_bundle_opens_with_its_media_beside_the_timeline(
    client_for, personas, board, cards, finished_take
):
    for card in cards:
        finished_take(card, 1)
    bundle = zipfile.ZipFile(io.BytesIO(download(client_for(personas["editor"]), board, "bundle")))
    names = set(bundle.namelist())
    timeline = otio.adapters.read_from_string(bundle.read("board.otio").decode(), "otio_json")
    for clip in timeline.find_clips():
        assert clip.media_reference.target_url in names  # relative to the bundle's top
        assert bundle.read(clip.media_reference.target_url)[4:8] == b"ftyp"
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["board"]["title"] == "Harbour at dawn" and len(manifest["cards"]) == 3


def test_an_export_needs_every_card_taken_and_a_known_format(
    client_for, personas, board, cards, finished_take
):
    client = client_for(personas["editor"])
    url = reverse("storyboard:export", args=["harbour", board.pk])
    finished_take(cards[0], 1)
    response = client.get(url, {"format": "otio"})
    assert (
        response.status_code == 400
        and "Cards 2, 3 have no finished chosen take" in response.content.decode()
    )
    for card in cards[1:]:
        finished_take(card, 1)
    response = client.get(url, {"format": "mov"})
    assert response.status_code == 400 and "isn&#x27;t one of them" in response.content.decode()


def fcp_tracks(xml: bytes) -> dict[str, list]:
    """The clip and transition items of the sequence's video and audio tracks, as
    ElementTree reads the xmeml."""
    root = ElementTree.fromstring(xml)
    assert root.tag == "xmeml"
    sequence = root.find("./project/children/sequence")
    return {kind: list(sequence.find(f"./media/{kind}/track")) for kind in ("video", "audio")}


def timing(item) -> tuple[int, ...]:
    return tuple(int(item.findtext(tag)) for tag in ("start", "end", "in", "out"))


def test_the_fcp_xml_lists_the_cards_in_order_with_their_takes_frames(
    client_for, personas, board, cards, finished_take
):
    takes = [finished_take(cards[0], 1), finished_take(cards[1], 2), finished_take(cards[2], 1)]
    fps = round(takes[0].probe["fps"])
    xml = download(client_for(personas["viewer"]), board, "fcpxml")
    tracks = fcp_tracks(xml)
    names = [f"{n:02d} {card.title}" for n, card in enumerate(cards, 1)]
    for kind, items in tracks.items():
        assert [item.tag for item in items] == ["clipitem"] * 3
        assert [item.findtext("name") for item in items] == names
        assert [item.findtext("sourcetrack/mediatype") for item in items] == [kind] * 3
        # start, end on the sequence; in, out in the take: every take whole, one after another
        assert [timing(item) for item in items] == [
            (0, fps, 0, fps),
            (fps, 3 * fps, 0, 2 * fps),
            (3 * fps, 4 * fps, 0, fps),
        ]
        assert [int(item.findtext("duration")) for item in items] == [fps, 2 * fps, fps]
    # the picture and the sound of a card are two clip items playing one file
    video, audio = tracks["video"], tracks["audio"]
    assert {item.get("id") for item in video}.isdisjoint(item.get("id") for item in audio)
    assert [item.findtext("file/pathurl") for item in video] == [
        f"media/card-{n:02d}-take-{take.pk}.mp4" for n, take in enumerate(takes, 1)
    ]
    assert [item.find("file").get("id") for item in audio] == [
        item.find("file").get("id") for item in video
    ]

    timeline = otio.adapters.read_from_string(xml.decode(), "fcp_xml")
    assert timeline.name == "Harbour at dawn"
    for track in timeline.tracks:
        clips = list(track.find_clips())
        assert [clip.name for clip in clips] == names
        assert [clip.source_range.duration.to_seconds() for clip in clips] == [1, 2, 1]
    assert timeline.duration().to_seconds() == 4


def test_a_crossfade_in_the_fcp_xml_overlaps_both_takes_as_the_cut_does(
    client_for, personas, board, cards, finished_take
):
    takes = [finished_take(cards[0], 1), finished_take(cards[1], 2), finished_take(cards[2], 1)]
    Card.objects.filter(pk=cards[0].pk).update(transition="crossfade", transition_seconds=0.5)
    fps = round(takes[0].probe["fps"])
    half = round(0.25 * fps)
    xml = download(client_for(personas["editor"]), board, "fcpxml")
    for kind, items in fcp_tracks(xml).items():
        assert [item.tag for item in items] == [
            "clipitem",
            "transitionitem",
            "clipitem",
            "clipitem",
        ]
        first, fade, second, third = items
        # -1: the edge meets the transition; the fade reads 0.25 s past the cut on either
        # side, and the takes have those frames
        assert timing(first) == (0, -1, 0, fps)
        assert (int(fade.findtext("start")), int(fade.findtext("end"))) == (
            fps - 2 * half,
            fps,
        )
        assert fade.findtext("alignment") == "center"
        assert fade.findtext("effect/mediatype") == kind
        assert timing(second) == (-1, 3 * fps - 2 * half, 0, 2 * fps)
        assert timing(third) == (3 * fps - 2 * half, 4 * fps - 2 * half, 0, fps)
    assert fcp_tracks(xml)["audio"][1].findtext("effect/effectid") == "KGAudioTransCrossFade3dB"

    timeline = otio.adapters.read_from_string(xml.decode(), "fcp_xml")
    video = timeline.video_tracks()[0]
    assert [type(item).__name__ for item in video] == ["Clip", "Transition", "Clip", "Clip"]
    assert [c.source_range.duration.to_seconds() for c in video.find_clips()] == [0.75, 1.75, 1]
    assert timeline.duration().to_seconds() == 3.5


def test_an_fcp_xml_of_a_board_with_nothing_rendered_is_refused_by_name(
    client_for, personas, board, cards
):
    response = client_for(personas["editor"]).get(
        reverse("storyboard:export", args=["harbour", board.pk]), {"format": "fcpxml"}
    )
    assert response.status_code == 400 and response.get("Content-Disposition") is None
    assert "Cards 1, 2, 3 have no finished chosen take yet" in response.content.decode()
