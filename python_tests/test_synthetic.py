"""Synthetic fixed-torso gaze shifts follow the physiology they cite."""

import numpy as np
import pytest

from gazehead_rt.geometry import eye_from_gaze_head, gaze_from_head_eye
from gazehead_rt.style import estimate_style
from gazehead_rt.training.data.synthetic import (
    NECK_LIMIT_DEG,
    Person,
    person_clip,
    random_targets,
    sample_person,
    simulate,
    synthetic_clips,
)

FPS = 30.0
D2R = np.pi / 180.0


def _held(person, target_deg, hold_s=5.0, idle=False, seed=0):
    return simulate(
        person, [target_deg], [hold_s], fps=FPS, idle=idle, rng=np.random.default_rng(seed)
    )


@pytest.mark.parametrize("propensity", [0.0, 0.5, 1.0])
def test_head_share_rises_with_amplitude(propensity):
    p = sample_person(np.random.default_rng(4), propensity)
    shares = []
    for amp in (10, 20, 30, 45, 60):  # below the neck limit (70), which caps the share
        s = _held(p, [0.0, amp])
        k = int(round((0.5 + 1.0) * FPS))  # 1 s after the shift's onset at 0.5 s
        shares.append(s.head[k, 1] / D2R / amp)
    assert shares[0] < 0.1  # below the hinge the head barely moves
    assert all(b >= a - 1e-9 for a, b in zip(shares, shares[1:]))
    assert shares[-1] > shares[0] + 0.3


@pytest.mark.parametrize("seed", range(6))
def test_settled_eye_within_20_deg_for_held_shifts_up_to_90(seed):
    rng = np.random.default_rng(seed)
    p = sample_person(rng)
    for target in ([0, 90], [0, -90], [20, 60], [-30, -75], [35, 40], [0, 45]):
        s = _held(p, target, hold_s=6.0, seed=seed)
        eye = s.eye[-int(0.5 * FPS) :] / D2R
        assert np.abs(eye).max() <= 20.0 + 0.05, (p, target, eye[-1])
        # the idle sway (<= ~0.6 deg) rides on top; at the neck limit it can only push inward
        s_idle = _held(p, target, hold_s=6.0, idle=True, seed=seed)
        assert np.abs(s_idle.eye[-int(0.5 * FPS) :] / D2R).max() <= 20.0 + 1.0
        # and the gaze is on the target (the eye is within its range)
        np.testing.assert_allclose(s.gaze[-1] / D2R, target, atol=0.5)


def test_eye_counter_rotates_after_gaze_lands():
    p = Person(head_latency_s=0.05, head_latency_sd_s=0.0)
    s = _held(p, [0.0, 60.0], hold_s=4.0)
    land = int(round((0.5 + s.shifts[0]["duration_s"]) * FPS)) + 2
    # gaze holds after landing while the head keeps turning and the eye comes back (VOR)
    np.testing.assert_allclose(s.gaze[land:, 1] / D2R, 60.0, atol=0.05)
    assert s.head[land + 6, 1] > s.head[land, 1] + 3 * D2R
    assert s.eye[land, 1] / D2R > 25.0 and abs(s.eye[-1, 1] / D2R) <= p.eye_rest_deg + 0.5


def test_gaze_is_head_composed_with_eye():
    c = person_clip("x", sample_person(np.random.default_rng(1)), 30.0, seed=1)
    eye = eye_from_gaze_head(c.gaze.astype(np.float64), c.head.astype(np.float64))
    g = gaze_from_head_eye(c.head.astype(np.float64), eye)
    d = (g - c.gaze + np.pi) % (2 * np.pi) - np.pi
    assert np.abs(d).max() < 1e-5


def test_head_latency_mostly_0_to_100_ms_sometimes_head_first():
    rng = np.random.default_rng(2)
    lat = []
    for _ in range(20):
        p = sample_person(rng)
        tg, hold = random_targets(rng, 60.0, p)
        s = simulate(p, tg, hold, fps=FPS, rng=rng, idle=False)
        lat += [
            sh["head_start_s"] - sh["onset_s"] for sh in s.shifts if sh["head_start_s"] is not None
        ]
    lat = np.array(lat)
    assert len(lat) > 500
    assert np.all((lat >= -0.1) & (lat <= 0.2))
    assert np.mean((lat >= 0.0) & (lat <= 0.1)) > 0.6
    assert 0.03 < np.mean(lat < 0) < 0.3


def test_measured_head_onset_follows_the_planned_latency():
    p = Person(head_latency_s=0.1, head_latency_sd_s=0.0)
    s = _held(p, [0.0, 50.0])
    fine = simulate(p, [[0.0, 50.0]], [3.0], fps=1000.0, idle=False)
    moving = np.flatnonzero(np.abs(np.diff(fine.head[:, 1])) * 1000.0 > 1e-3 * D2R)
    assert moving[0] / 1000.0 == pytest.approx(0.5 + 0.1, abs=0.01)
    assert s.shifts[0]["head_start_s"] == pytest.approx(0.6)


def test_peak_velocities_grow_with_amplitude():
    p = Person()
    head_peak, gaze_peak = [], []
    for amp in (20, 40, 60, 90):
        s = simulate(p, [[0.0, amp]], [3.0], fps=240.0, idle=False)
        head_peak.append(np.abs(np.diff(s.head[:, 1])).max() * 240.0 / D2R)
        gaze_peak.append(np.abs(np.diff(s.gaze[:, 1])).max() * 240.0 / D2R)
    assert np.all(np.diff(head_peak) > 0) and np.all(np.diff(gaze_peak) > 0)
    assert 150.0 < head_peak[-1] < 400.0  # a few hundred deg/s for large shifts
    assert gaze_peak[-1] <= p.saccade_vmax_deg_s * 1.01


def test_head_stays_within_the_neck_and_eye_within_its_range():
    rng = np.random.default_rng(5)
    for _ in range(5):
        p = sample_person(rng)
        tg, hold = random_targets(rng, 120.0, p)
        s = simulate(p, tg, hold, fps=FPS, rng=rng)
        assert np.all(np.abs(s.head[:, :2] / D2R) <= NECK_LIMIT_DEG + 1e-6)
        assert np.all(np.abs(s.eye / D2R) <= p.eye_range_deg + 1e-6)


def test_targets_cover_large_shifts_in_yaw_and_pitch_within_range():
    rng = np.random.default_rng(6)
    p = sample_person(rng)
    tg, hold = random_targets(rng, 1200.0, p)
    amp = np.linalg.norm(np.diff(np.vstack([[0, 0], tg]), axis=0), axis=1)
    assert np.all(np.abs(tg[:, 0]) <= 50.0) and np.all(np.abs(tg[:, 1]) <= 150.0)
    assert amp.min() >= 0.0 and np.mean(amp >= 40) > 0.25 and np.mean(amp >= 60) > 0.15
    assert np.mean(amp < 15) > 0.1
    dp = np.abs(np.diff(np.vstack([[0, 0], tg]), axis=0)[:, 0])
    assert np.mean(dp > 10) > 0.2  # vertical components are common
    assert np.all((hold >= 0.3) & (hold <= 2.0))


def test_estimated_propensity_follows_the_persons_parameter():
    rng = np.random.default_rng(7)
    ps = np.linspace(0.0, 1.0, 9)
    est = [
        person_clip(f"p{i}", sample_person(rng, p), 180.0, seed=i).extra["style"][0]
        for i, p in enumerate(ps)
    ]
    rank = np.argsort(np.argsort(est))
    rho = np.corrcoef(rank, np.arange(len(ps)))[0, 1]  # Spearman: traits have their own
    assert rho > 0.8, est  # per-person spread, so neighbours may swap
    assert np.mean(est[-3:]) - np.mean(est[:3]) > 0.2


def test_clip_carries_style_and_person_parameters():
    p = sample_person(np.random.default_rng(8), 0.3)
    c = person_clip("syn", p, 40.0, seed=3, split="val")
    assert c.split == "val" and c.fps == FPS and c.source == "synthetic"
    assert c.extra["kind"] == "synthetic" and c.extra["person"]["propensity"] == 0.3
    # the clip stores float32 arrays; the style was estimated from the float64 simulation
    np.testing.assert_allclose(c.extra["style"], estimate_style(c.gaze, c.head, FPS), atol=1e-4)
    assert c.extra["person"]["head_slope"] == p.head_slope


def test_splits_draw_different_people_deterministically():
    a = synthetic_clips("train", 2.0, seed=0, clip_s=30.0)
    b = synthetic_clips("train", 2.0, seed=0, clip_s=30.0)
    t = synthetic_clips("test", 2.0, seed=0, clip_s=30.0)
    assert len(a) == 4 and [c.id for c in a] == [c.id for c in b]
    np.testing.assert_array_equal(a[0].gaze, b[0].gaze)
    train_people = {c.extra["person"]["propensity"] for c in a}
    assert not train_people & {c.extra["person"]["propensity"] for c in t}
    assert all(c.split == "test" for c in t)
    with pytest.raises(ValueError, match="split must be one of"):
        synthetic_clips("training", 1.0)


# --- the v3 data set built on these clips (training.data.v3) --------------------------------


def test_detect_shifts_finds_steps_and_their_amplitudes():
    from gazehead_rt.training.data.v3 import detect_shifts

    p = Person(idle_speed_deg_s=0.0)
    s = simulate(
        p, [[0.0, 30.0], [0.0, -40.0], [20.0, -40.0]], [1.0, 1.0, 1.0], fps=FPS, idle=False
    )
    found = detect_shifts(s.gaze, np.ones(len(s.gaze), bool), FPS)
    assert [round(a) for _, _, a in found] == [30, 70, 20]
    for (a, b, _), sh in zip(found, s.shifts):
        assert a / FPS <= sh["onset_s"] + 1 / FPS and b / FPS >= sh["onset_s"]
    # no shift is measured across an invalid frame
    valid = np.ones(len(s.gaze), bool)
    valid[found[1][0] + 1] = False
    amps = [round(a) for _, _, a in detect_shifts(s.gaze, valid, FPS)]
    assert amps[0] == 30 and amps[-1] == 20 and 70 not in amps


def test_source_stats_of_synthetic_clips_show_the_physiology():
    from gazehead_rt.training.data.v3 import format_stats, source_stats

    clips = synthetic_clips("val", 6.0, seed=3)
    st = source_stats(clips)
    assert st["clips"] == 6 and st["frames"] == sum(c.frames for c in clips)
    assert sum(st["amplitude_hist"]) == st["shifts"] > 100
    assert st["amplitude_hist"][-1] > 0 and st["amplitude_hist"][-2] > 0  # >= 60 deg shifts
    share = st["head_share"]
    assert share["5-15"]["1"][0] < 0.15 < share["30-45"]["1"][0] < share["60+"]["1"][0]
    assert share["60+"]["1"][0] >= 0.5
    assert st["settled_eye_ge40_p50"] < 20.0
    assert len(st["style_mean"]) == 2
    text = format_stats({"synthetic": st})
    assert "head share 60+ deg @1s" in text and "style propensity" in text


def test_load_v3_clips_selects_the_split_and_skips_missing_video(tmp_path):
    from gazehead_rt.training.data.v3 import load_v3_clips

    logs = []
    clips = load_v3_clips(
        "test",
        sources=("synthetic", "video"),
        seed=1,
        synthetic_minutes=1.0,
        video_dir=str(tmp_path / "none"),
        log=logs.append,
    )
    assert len(clips) == 1 and clips[0].split == "test"
    assert clips[0].extra["kind"] == "synthetic" and len(clips[0].extra["style"]) == 2
    assert any("video: no extracted dataset" in m and "skipped" in m for m in logs)
    with pytest.raises(ValueError, match="sources must be among"):
        load_v3_clips("train", sources=("sgaze", "mocap"))
    with pytest.raises(ValueError, match="split must be one of"):
        load_v3_clips("dev")
