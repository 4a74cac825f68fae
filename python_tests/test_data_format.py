"""docs/design.md §3 sequence format: round trip, manifest contents and refusal of bad input."""

import json
import os

import numpy as np
import pytest

from gazehead_rt.training.data.dataset import (
    Clip,
    DatasetError,
    load_dataset,
    read_clip,
    write_clip,
    write_dataset,
    write_manifest,
)


def _clip(cid="a", T=50, split="train", seed=0):
    rng = np.random.default_rng(seed)
    valid = np.ones(T, bool)
    valid[5:8] = False
    return Clip(
        id=cid,
        gaze=rng.normal(0, 0.2, (T, 2)),
        head=rng.normal(0, 0.1, (T, 3)),
        valid=valid,
        fps=30.0,
        source="unit",
        subject="s1",
        split=split,
    )


def test_round_trip_and_manifest(tmp_path):
    clips = [_clip("a", split="train"), _clip("b", T=20, split="test", seed=1)]
    write_dataset(tmp_path, clips, name="unit")
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert man["format_version"] == 1
    e = {c["id"]: c for c in man["clips"]}
    assert e["a"]["frames"] == 50 and e["a"]["valid_fraction"] == pytest.approx(47 / 50)
    assert e["b"]["split"] == "test" and e["b"]["file"] == "clip_b.npz"
    test = load_dataset(tmp_path, "test")
    assert [c.id for c in test] == ["b"]
    back = load_dataset(tmp_path)
    for c0, c1 in zip(clips, back):
        assert c1.gaze.dtype == np.float32 and c1.head.dtype == np.float32
        np.testing.assert_array_equal(c0.gaze, c1.gaze)
        np.testing.assert_array_equal(c0.head, c1.head)
        np.testing.assert_array_equal(c0.valid, c1.valid)
        assert c1.fps == 30.0 and c1.subject == "s1" and c1.source == "unit"


def test_optional_audio_features(tmp_path):
    c = _clip()
    c.audio_features = np.ones((c.frames, 4), np.float32)
    p = write_clip(tmp_path, c)
    assert read_clip(p).audio_features.shape == (50, 4)


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(gaze=np.zeros((10, 3))), "gaze must have shape"),
        (dict(head=np.zeros((9, 3))), "head must have shape"),
        (dict(gaze=np.full((10, 2), np.nan)), "non-finite"),
        (dict(head=np.full((10, 3), 30.0)), "radians"),
        (dict(split="holdout"), "split"),
        (dict(id="a/b"), "id"),
    ],
)
def test_bad_clips_are_refused(bad, match):
    kw = dict(
        id="a", gaze=np.zeros((10, 2)), head=np.zeros((10, 3)), valid=np.ones(10, bool), fps=30.0
    )
    kw.update(bad)
    with pytest.raises(DatasetError, match=match):
        Clip(**kw)


def test_manifest_mismatch_names_file(tmp_path):
    c = _clip()
    write_clip(tmp_path, c)
    entry = {"id": "a", "file": "clip_a.npz", "frames": 49, "fps": 30.0, "split": "train"}
    write_manifest(tmp_path, [entry])
    with pytest.raises(DatasetError, match=r"clip_a\.npz.*49 frames"):
        load_dataset(tmp_path)


def test_duplicate_ids_refused(tmp_path):
    with pytest.raises(DatasetError, match="duplicate"):
        write_manifest(tmp_path, [_clip("a"), _clip("a")])
    assert not os.path.exists(tmp_path / "manifest.json")
