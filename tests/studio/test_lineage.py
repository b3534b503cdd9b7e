"""The take tree: operations on a take make child takes, checked first, then rendered
for real on the animatic (small clips, decoded back with PyAV)."""

from decimal import Decimal
from pathlib import Path

import av
import numpy as np
import pytest
from django.core.files.base import ContentFile

from studio import family, ledger, lineage, media, takes
from studio.animatic.render import AnimaticSpec, render_animatic
from studio.engine import local
from studio.engine.advance import advance
from studio.engine.edits import ENCODINGS
from studio.lineage import LineageRefused
from studio.models import LedgerEntry, Method, Operation, Status, Take, Workspace
from studio.prompts import Shot
from studio.providers import endpoints


def make_clip(workspace, shot, seconds=2, seed=7, size="320x180") -> Take:
    take = takes.queue_take(
        workspace, shot, provider="animatic", size=size, seconds=seconds, seed=seed
    )
    return run(take)


def run(take: Take) -> Take:
    assert local.run_take(take.pk) == Status.COMPLETED, Take.objects.get(pk=take.pk).error_message
    take.refresh_from_db()
    return take


def pictures(take: Take) -> list[np.ndarray]:
    with av.open(take.video.path) as container:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(video=0)]


def difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


@pytest.fixture
def clip(workspace, shot):
    """A finished 2 s, 320x180 animatic take (48 frames at 24 fps, with sound)."""
    return make_clip(workspace, shot)


def test_a_first_take_is_its_own_root_made_by_generate(clip):
    assert (clip.parent_id, clip.root_id, clip.root_pk) == (None, None, clip.pk)
    assert (clip.operation, clip.method) == (Operation.GENERATE, Method.NATIVE)


def test_recut_is_a_frame_accurate_free_child_with_its_sound(clip):
    child = lineage.recut(clip, 0.5, 1.25)
    assert (child.parent_id, child.root_id) == (clip.pk, clip.pk)
    assert (child.operation, child.method, child.estimate) == ("recut", "local", Decimal("0"))
    run(child)
    assert child.probe["frames"] == 18  # frames 12..29 at 24 fps
    assert child.probe["duration"] == pytest.approx(0.75, abs=0.03)
    assert child.probe["audio_codec"] == "aac" and child.probe["width"] == 320
    assert difference(pictures(child)[0], pictures(clip)[12]) < 4  # the very frame asked for
    assert ledger.totals(take_id=child.pk) == {
        "hold": Decimal("0"),
        "charge": Decimal("0"),
        "release": Decimal("0"),
    }
    clip.refresh_from_db()
    assert clip.probe["frames"] == 48 and child.video.name != clip.video.name


@pytest.mark.parametrize(
    ("start", "end", "says"),
    [
        (1.0, 2.5, "outside the take"),
        (-0.5, 1.0, "outside the take"),
        (1.0, 1.0, "must come before"),
        (1.5, 0.5, "must come before"),
        (1.0, 1.01, "shorter than one frame"),
    ],
)
def test_a_bad_recut_says_why_and_stores_nothing(clip, start, end, says):
    count, entries = Take.objects.count(), LedgerEntry.objects.count()
    with pytest.raises(LineageRefused, match=says):
        lineage.recut(clip, start, end)
    assert (Take.objects.count(), LedgerEntry.objects.count()) == (count, entries)


def test_an_operation_on_an_unfinished_take_is_refused(workspace, shot):
    queued = takes.queue_take(workspace, shot, provider="animatic", size="320x180", seconds=2)
    for operation in (
        lambda: lineage.recut(queued, 0, 1),
        lambda: lineage.loop(queued),
        lambda: lineage.remix(queued, {"lighting": "neon"}),
        lambda: lineage.variations(queued, 2),
        lambda: lineage.extend(queued, 4),
    ):
        with pytest.raises(LineageRefused, match="only a completed take"):
            operation()
    assert Take.objects.count() == 1


def test_loop_ends_on_the_frame_before_its_first(clip):
    child = run(lineage.loop(clip, 0.5))
    assert child.probe["frames"] == 48 - 12 and child.method == "local"
    looped, source = pictures(child), pictures(clip)
    seam = difference(looped[-1], looped[0])
    assert seam < 0.5 * difference(source[-1], source[0])
    assert difference(looped[-1], source[11]) < 4 and difference(looped[0], source[12]) < 4
    assert child.charged == Decimal("0")


def test_loop_refuses_a_crossfade_longer_than_half_the_take(clip):
    with pytest.raises(LineageRefused, match="half the take"):
        lineage.loop(clip, 1.5)


def test_extend_continues_from_the_last_frame_and_joins_into_one_video(clip):
    child = lineage.extend(clip, 4)
    assert (child.operation, child.method, child.seconds) == ("extend", "chained", 4)
    assert child.reference and child.reference_fit["mode"] == "last-frame"
    assert advance(child.pk) == Status.COMPLETED  # the worker's own path
    child.refresh_from_db()
    assert child.probe["frames"] == 48 + 96
    assert child.probe["duration"] == pytest.approx(6, abs=0.05)
    joined, parent = pictures(child), pictures(clip)
    assert difference(joined[47], parent[47]) < 4  # the parent, unchanged, first


def test_extend_by_a_length_the_model_cant_render_is_refused(clip):
    with pytest.raises(LineageRefused, match="4, 8, 12 seconds at a time, not 5"):
        lineage.extend(clip, 5)


def test_remix_that_changes_nothing_is_refused_and_spends_nothing(clip, shot):
    count = Take.objects.count()
    with pytest.raises(LineageRefused, match="changes nothing"):
        lineage.remix(clip, {"subject": shot.subject + "  ", "camera": shot.camera})
    assert Take.objects.count() == count


def test_remix_generates_the_edited_shot_with_the_parents_settings(clip):
    child = lineage.remix(clip, {"lighting": "neon rain at night"})
    assert (child.operation, child.method) == ("remix", "chained")
    assert (child.seed, child.size, child.seconds, child.model) == (
        clip.seed,
        clip.size,
        clip.seconds,
        clip.model,
    )
    assert child.lighting == "neon rain at night" and child.subject == clip.subject
    assert child.edit == {"changed": ["lighting"]}
    assert "neon rain" in child.composed_prompt
    run(child)
    assert child.probe["frames"] == 48


def test_variations_are_siblings_with_new_seeds(clip):
    children = lineage.variations(clip, 3)
    seeds = {child.seed for child in children}
    assert len(seeds) == 3 and clip.seed not in seeds
    assert {(c.parent_id, c.operation, c.method) for c in children} == {
        (clip.pk, "variation", "chained")
    }
    for count in (1, 5):
        with pytest.raises(LineageRefused, match="2 to 4 at a time"):
            lineage.variations(clip, count)


def test_blend_dissolves_one_take_into_another(clip, workspace, shot):
    other = make_clip(workspace, Shot(subject="a red kite", lighting="noon"), seed=9)
    child = lineage.blend(clip, other, 0.5)
    assert (child.parent_id, child.blend_with_id, child.method) == (clip.pk, other.pk, "local")
    run(child)
    assert child.probe["frames"] == 48 + 48 - 12
    mixed, a, b = pictures(child), pictures(clip), pictures(other)
    assert difference(mixed[0], a[0]) < 4 and difference(mixed[-1], b[-1]) < 4


def test_blend_fits_the_second_take_to_the_first_ones_size(clip, workspace):
    tall = make_clip(workspace, Shot(subject="a tower"), size="180x320")
    child = run(lineage.blend(clip, tall, 0.25))
    assert (child.probe["width"], child.probe["height"]) == (320, 180)
    assert "cropped to fill 320x180" in child.edit["fit"]


def test_blend_with_itself_or_another_workspace_is_refused(clip, shot):
    with pytest.raises(LineageRefused, match="itself"):
        lineage.blend(clip, clip)
    elsewhere = Workspace.objects.create(name="Elsewhere", slug="elsewhere")
    foreign = make_clip(elsewhere, shot)
    with pytest.raises(LineageRefused, match="same workspace"):
        lineage.blend(clip, foreign)


def test_a_whole_tree_is_one_query_with_the_path_highlighted(clip, django_assert_num_queries):
    cut = run(lineage.recut(clip, 0, 1))
    looped = lineage.loop(cut, 0.25)
    sibling = lineage.remix(clip, {"camera": "whip pan"})
    assert looped.root_id == clip.pk  # a grandchild points at the root too
    with django_assert_num_queries(1):
        tree = family.family_tree(looped)
    assert tree.as_dict() == {
        "id": clip.pk,
        "operation": "generate",
        "method": "native",
        "status": "completed",
        "children": [
            {
                "id": cut.pk,
                "operation": "recut",
                "method": "local",
                "status": "completed",
                "children": [
                    {
                        "id": looped.pk,
                        "operation": "loop",
                        "method": "local",
                        "status": "queued",
                        "children": [],
                    }
                ],
            },
            {
                "id": sibling.pk,
                "operation": "remix",
                "method": "chained",
                "status": "queued",
                "children": [],
            },
        ],
    }
    assert [n.take.pk for n in tree.walk() if n.on_path] == [clip.pk, cut.pk, looped.pk]


def test_diff_names_each_changed_field_with_both_values(clip):
    child = lineage.remix(clip, {"lighting": "neon", "dialogue": ""})
    changed = {row["field"]: (row["a"], row["b"]) for row in lineage.diff(clip, child)}
    assert changed == {
        "lighting": (clip.lighting, "neon"),
        "dialogue": (clip.dialogue, ""),
        "operation": ("generate", "remix"),
        "method": ("native", "chained"),
    }


def priced_parent(workspace) -> Take:
    """A completed take on a priced provider (never contacted: only queueing is checked)."""
    endpoints.add_endpoint(
        workspace,
        name="sim",
        kind="openai",
        base_url="http://sim.invalid/v1",
        api_key="sk-test",
        models=["sora-2"],
    )
    take = takes.queue_take(
        workspace, Shot(subject="a fox"), provider="sim", model="sora-2", size="1280x720", seconds=4
    )
    take.status = Status.COMPLETED
    take.video.save("done.mp4", ContentFile(b"not read"), save=False)
    take.probe = {"duration": 4.0, "fps": 24.0, "frames": 96}
    take.save()
    return take


def test_chained_operations_are_priced_and_held_like_any_generation(workspace):
    parent = priced_parent(workspace)
    children = lineage.variations(parent, 3)
    assert [c.estimate for c in children] == [Decimal("0.40")] * 3  # 4 s × $0.10, each
    assert ledger.totals(take__in=children)["hold"] == Decimal("1.20")
    remix = lineage.remix(parent, {"motion": "runs"})
    assert remix.estimate == Decimal("0.40") and remix.endpoint_id == parent.endpoint_id


def test_local_operations_on_a_paid_take_cost_nothing(workspace):
    parent = priced_parent(workspace)
    cut = lineage.recut(parent, 1, 2)
    assert (cut.estimate, cut.endpoint_id, cut.provider) == (Decimal("0"), None, "sim")
    assert ledger.totals(take=cut)["hold"] == Decimal("0")


def test_clips_of_one_encoding_are_joined_without_decoding(tmp_path, clip, workspace, shot):
    other = make_clip(workspace, shot, seconds=4, seed=8)
    out = tmp_path / "joined.mp4"
    media.join([Path(clip.video.path), Path(other.video.path)], out)
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        times = [float(frame.time) for frame in container.decode(video)]
    assert len(times) == 48 + 96 and times == sorted(times)
    assert times[48] - times[47] == pytest.approx(1 / 24, abs=0.002)  # no gap at the join
    with av.open(str(out)) as container, av.open(clip.video.path) as source:
        first_packets = [bytes(p) for p in container.demux(video=0)][:48]
        assert first_packets == [bytes(p) for p in source.demux(video=0)][:48]  # copied


def test_remix_or_vary_of_a_local_edit_points_to_the_generated_take(clip):
    cut = run(lineage.recut(clip, 0, 1))
    for operation in (
        lambda: lineage.remix(cut, {"lighting": "dusk"}),
        lambda: lineage.variations(cut, 2),
    ):
        with pytest.raises(
            LineageRefused, match=f"the generated take it came from \\(take {clip.pk}\\)"
        ):
            operation()
    assert lineage.loop(cut, 0.25).parent_id == cut.pk


def yuv_frames(path) -> list:
    """A video's frames as integer YUV arrays (for comparing pixels)."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="yuv420p").astype(int) for f in container.decode(video=0)]


def video_packets(path) -> list[bytes]:
    """A video's encoded packets (for telling copied frames from re-encoded ones)."""
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def test_a_recut_on_whole_gops_copies_their_packets_and_stays_frame_accurate(tmp_path):
    src = tmp_path / "src.mp4"
    render_animatic(AnimaticSpec(320, 180, 6, 3, subject="kite", camera="orbit"), src)

    whole = yuv_frames(src)
    media.trim(src, tmp_path / "copy.mp4", 2, 4)  # keyframes every 2 s: whole GOPs
    copied = yuv_frames(tmp_path / "copy.mp4")
    assert len(copied) == 48
    assert all(np.array_equal(a, b) for a, b in zip(copied, whole[48:96], strict=True))
    assert video_packets(tmp_path / "copy.mp4") == video_packets(src)[48:96]  # byte for byte
    assert media.probe(tmp_path / "copy.mp4")["sample_rate"] == 48_000

    media.trim(src, tmp_path / "cut.mp4", 1.5, 3.25)  # mid-GOP: decoded and encoded
    cut = yuv_frames(tmp_path / "cut.mp4")
    assert len(cut) == 42
    pairs = zip(cut, whole[36:78], strict=True)
    assert max(np.abs(a.astype(int) - b.astype(int)).mean() for a, b in pairs) < 3


def test_a_loop_copies_the_whole_gops_between_its_opening_and_its_dissolve(tmp_path):
    src = tmp_path / "src.mp4"
    render_animatic(AnimaticSpec(320, 180, 6, 3, subject="kite", camera="orbit"), src)

    whole = yuv_frames(src)
    media.loop(src, tmp_path / "loop.mp4", 1.0, encodings=ENCODINGS)  # keyframes every 2 s
    media.loop(src, tmp_path / "plain.mp4", 1.0)  # no encodings known: every frame encoded
    looped, plain = yuv_frames(tmp_path / "loop.mp4"), yuv_frames(tmp_path / "plain.mp4")
    assert len(looped) == len(plain) == 144 - 24
    # Output frames 24..71 are source frames 48..95: its GOP copied byte for byte.
    assert video_packets(tmp_path / "loop.mp4")[24:72] == video_packets(src)[48:96]
    assert video_packets(tmp_path / "plain.mp4")[24:72] != video_packets(src)[48:96]
    assert all(np.array_equal(a, b) for a, b in zip(looped[24:72], whole[48:96], strict=True))
    assert max(np.abs(a - b).mean() for a, b in zip(looped, plain, strict=True)) < 2
    assert np.abs(looped[-1] - whole[23]).mean() < 3 and np.abs(looped[0] - whole[24]).mean() < 3
    probe = media.probe(tmp_path / "loop.mp4")
    assert probe["frames"] == 120 and abs(probe["duration"] - 5.0) < 0.05
    assert probe["sample_rate"] == 48_000


def test_a_loop_of_a_take_encoded_otherwise_encodes_every_frame(tmp_path):
    src = tmp_path / "src.mp4"
    render_animatic(AnimaticSpec(320, 180, 6, 3, subject="kite", camera="orbit"), src)
    elsewhere = ({"preset": "ultrafast", "crf": "30"},)  # not how the source was made
    media.loop(src, tmp_path / "loop.mp4", 1.0, encodings=elsewhere)
    with av.open(str(tmp_path / "loop.mp4")) as made, av.open(str(src)) as original:
        assert not {bytes(p) for p in made.demux(video=0)} & {
            bytes(p) for p in original.demux(video=0) if p.size
        }
    assert media.probe(tmp_path / "loop.mp4")["frames"] == 120


def test_tree_nodes_say_what_the_take_page_says_without_loading_whole_takes(clip):
    child = lineage.recut(clip, 0, 1)
    Take.objects.filter(pk=child.pk).update(status=Status.IN_PROGRESS, stage="queued")
    tree = family.family_tree(clip)
    (node,) = tree.children
    assert isinstance(node.take, family.Member)
    assert (node.take.pk, node.take.parent_id, node.take.status_label) == (
        child.pk,
        clip.pk,
        "In queue",
    )
    assert node.take.get_operation_display() == "Re-cut"
    assert tree.take.poster and tree.take.charged == clip.charged
    with pytest.raises(AttributeError):
        node.take.composed_prompt  # noqa: B018 — not loaded: no query per node


def test_a_recut_inside_gops_copies_the_whole_ones_and_encodes_the_ends(tmp_path):
    src = tmp_path / "src.mp4"
    render_animatic(AnimaticSpec(320, 180, 6, 3, subject="kite", camera="orbit"), src)

    whole = yuv_frames(src)
    media.trim(src, tmp_path / "cut.mp4", 1.5, 5.25, encodings=ENCODINGS)  # frames 36..125
    cut = yuv_frames(tmp_path / "cut.mp4")
    assert len(cut) == 90
    # Frames 48..95, a whole GOP (a keyframe every 2 s), are copied byte for byte.
    assert video_packets(tmp_path / "cut.mp4")[12:60] == video_packets(src)[48:96]
    assert all(np.array_equal(a, b) for a, b in zip(cut[12:60], whole[48:96], strict=True))
    assert max(np.abs(a - b).mean() for a, b in zip(cut, whole[36:126], strict=True)) < 3
    probe = media.probe(tmp_path / "cut.mp4")
    assert abs(probe["duration"] - 3.75) < 0.05 and probe["sample_rate"] == 48_000


def sound_of(path) -> np.ndarray:
    """A video's sound as decoded (the MP4's edit list applied): stereo float samples."""
    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)


def audio_packets(path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


def test_a_recut_inside_gops_copies_its_sound_and_the_last_gops_own_run(tmp_path):
    src = tmp_path / "src.mp4"
    render_animatic(AnimaticSpec(320, 180, 6, 3, subject="kite", camera="orbit"), src)
    whole, heard = yuv_frames(src), sound_of(src)
    media.trim(src, tmp_path / "cut.mp4", 1.5, 5.25, encodings=ENCODINGS)  # frames 36..125

    cut = yuv_frames(tmp_path / "cut.mp4")
    assert len(cut) == 90 and np.abs(cut[0] - whole[36]).mean() < 3  # the in point's frame
    assert max(np.abs(a - b).mean() for a, b in zip(cut, whole[36:126], strict=True)) < 3
    # Past the whole GOP (frames 48..95), the last GOP's packets are copied as far as they
    # decode on their own: only the 12 frames before the first keyframe and a few at the
    # end are encoded.
    source_packets = set(video_packets(src))
    copied = [p in source_packets for p in video_packets(tmp_path / "cut.mp4")]
    assert copied[:12] == [False] * 12 and all(copied[12:60]) and 60 < sum(copied) < 90
    probe = media.probe(tmp_path / "cut.mp4")
    assert (probe["frames"], probe["fps"]) == (90, 24.0)

    # The sound is the source's AAC packets, not encoded again, starting on the in point.
    assert set(audio_packets(tmp_path / "cut.mp4")) <= set(audio_packets(src))
    sound = sound_of(tmp_path / "cut.mp4")
    at = round(1.5 * 48_000)
    assert np.abs(sound[:, :48_000] - heard[:, at : at + 48_000]).max() < 0.01  # in sync
    assert abs(sound.shape[1] - 3.75 * 48_000) <= 2_000  # as long as the pictures, ± a frame
