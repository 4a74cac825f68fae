"""From per-frame estimates to clean gaze/head sequences: tracks, masks, filters, resampling.

Order of operations for one video (``process_raw``):

1. **Tracks.** A track is a run of frames showing the same face in the same shot. It ends
   where the face is lost for longer than ``max_gap_s``, at a scene cut, or where the face
   jumps (its image position moves by more than ``jump_iod`` eye-corner distances, or its
   size changes by more than ``jump_scale`` ×, between neighbouring detections). Tracks
   shorter than ``min_track_s`` are dropped.
2. **Body frame per track**: B faces the camera from the track's median head position
   (``head_pose.body_from_camera_for_position``). Head R_B = M · R_ct; gaze d_B = M · R_ct · d_H.
3. **Confidence** per frame = fit × eyes. fit = exp(-½ (rms / (fit_tol · iod))²) from the
   rigid fit's reprojection error relative to face size (landmarks that disagree with a
   rigid face: occlusion, extreme expression, bad detection), × the fraction of fitted
   landmarks inside the image. eyes = the larger usable-eye weight (0 in a blink).
4. **Blinks**: an eye is closed when its openness falls below ``blink_ratio`` × its median
   openness over the track (adapts to eye shape and to the view), and counts as closed
   until it is back above ``blink_release_ratio`` × median (hysteresis: half-closed lids
   around a blink pull the iris landmark, while a single dip never flickers). A closed eye
   gives no gaze; gaze is masked when both eyes are unusable.
5. **Outliers**: head invalid where fit confidence < ``min_fit_confidence``; gaze invalid
   where the eye-in-head angle exceeds ``max_eye_deg`` (beyond the human range); then a
   Hampel filter (±``hampel_half_window_s``, ``hampel_sigmas`` MADs, floors
   ``hampel_floor_head_deg`` / ``hampel_floor_gaze_deg``) on every angle.
6. **Gap filling**: invalid runs up to ``max_gap_s`` inside a track are linearly interpolated
   (and count as valid); longer ones stay invalid.
7. **Smoothing**: zero-phase Gaussian, σ = ``head_sigma_s`` / ``gaze_sigma_s`` (lag 0).
8. **Resampling** to ``fps_out`` (linear), valid where both neighbours are valid.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

import numpy as np

from gazehead_rt.geometry import pitch_yaw_from_direction

from .estimate import RawFrames
from .filtering import (
    fill_short_gaps,
    gaussian_cutoff_hz,
    gaussian_smooth,
    hampel_outliers,
    resample_linear,
    runs,
)
from .head_pose import body_from_camera_for_position, head_from_rotation

__all__ = ["ExtractConfig", "TrackResult", "split_tracks", "process_track", "process_raw"]

#: Bumped whenever the numbers an unchanged config produces change; part of the resume key.
EXTRACTOR_VERSION = 2


@dataclass(frozen=True)
class ExtractConfig:
    fps_out: float = 30.0  # dataset rate (the model's default fps)
    focal_factor: float = 1.0  # focal length = focal_factor * max(width, height) pixels
    max_gap_s: float = 0.10  # longest gap that is interpolated, and that a track survives
    min_track_s: float = 1.0  # shorter tracks are dropped
    jump_iod: float = 1.0  # face position jump (in eye-corner distances) that splits a track
    jump_scale: float = 1.5  # face size ratio between detections that splits a track
    fit_tol: float = 0.05  # reprojection RMS scale of the fit confidence, fraction of iod
    min_fit_confidence: float = 0.5  # below: head invalid (RMS > 5.9 % of iod at defaults)
    min_in_image: float = 0.9  # face partly outside the picture: landmarks are guesses
    blink_ratio: float = 0.5  # eye closed below this fraction of its median openness ...
    blink_release_ratio: float = 0.7  # ... and stays closed until it opens past this one
    max_eye_deg: float = 50.0  # eye-in-head beyond this is not human (docs/design.md §1)
    hampel_half_window_s: float = 0.12
    hampel_sigmas: float = 3.5
    hampel_floor_head_deg: float = 3.0
    hampel_floor_gaze_deg: float = 6.0
    head_sigma_s: float = 0.030  # -3 dB at 4.4 Hz
    gaze_sigma_s: float = 0.020  # -3 dB at 6.6 Hz: keeps saccade onsets within a frame

    def digest(self) -> str:
        """Short hash of everything that changes the output (resume key)."""
        from .template import TEMPLATE_PATH  # noqa: PLC0415

        with open(TEMPLATE_PATH, "rb") as f:
            tmpl = hashlib.sha1(f.read()).hexdigest()
        blob = json.dumps(
            {"config": asdict(self), "version": EXTRACTOR_VERSION, "template": tmpl}, sort_keys=True
        )
        return hashlib.sha1(blob.encode()).hexdigest()[:12]

    def filter_summary(self) -> dict:
        return {
            "head_sigma_s": self.head_sigma_s,
            "head_cutoff_hz": round(gaussian_cutoff_hz(self.head_sigma_s), 2),
            "gaze_sigma_s": self.gaze_sigma_s,
            "gaze_cutoff_hz": round(gaussian_cutoff_hz(self.gaze_sigma_s), 2),
            "lag_s": 0.0,
            "max_gap_s": self.max_gap_s,
        }


@dataclass
class TrackResult:
    """One track of one video: source-rate series (for inspection) and the output clip."""

    start: int  # first source frame (index in the video)
    stop: int  # one past the last source frame
    fps_src: float
    body_from_camera: np.ndarray  # (3, 3) M: d_B = M d_C for this track
    # source rate, (n,) or (n, k)
    head_src: np.ndarray  # (n, 3) rad, filtered
    gaze_src: np.ndarray  # (n, 2) rad, filtered
    eye_src: np.ndarray  # (n, 2) rad, eye-in-head of the raw gaze (before filtering)
    head_raw: np.ndarray  # (n, 3) rad, before outlier rejection and filtering
    gaze_raw: np.ndarray  # (n, 2) rad
    head_valid_src: np.ndarray  # (n,) bool after gap filling
    gaze_valid_src: np.ndarray  # (n,) bool after gap filling
    blink_src: np.ndarray  # (n,) bool: no open eye
    confidence_src: np.ndarray  # (n,) in [0, 1]
    openness_src: np.ndarray  # (n, 2) relative openness (1 = median open eye)
    # output rate
    t_out_s: np.ndarray  # (m,) time since the video's first frame
    head: np.ndarray  # (m, 3) float32 rad
    gaze: np.ndarray  # (m, 2) float32 rad
    valid: np.ndarray  # (m,) bool
    stats: dict = field(default_factory=dict)

    @property
    def valid_fraction(self) -> float:
        return float(self.valid.mean()) if len(self.valid) else 0.0


def _max_gap_frames(cfg: ExtractConfig, fps: float) -> int:
    """Whole frames within ``max_gap_s``: 2 at 25 fps (80 ms), 3 at 30 fps (100 ms)."""
    return int(np.floor(cfg.max_gap_s * fps + 1e-6))


def split_tracks(raw: RawFrames, cfg: ExtractConfig) -> list[tuple[int, int]]:
    """[start, stop) local frame ranges of tracks (see module docstring, step 1)."""
    max_gap = _max_gap_frames(cfg, raw.fps)
    usable = raw.found & (raw.in_image >= cfg.min_in_image)
    idx = np.nonzero(usable)[0]
    if len(idx) == 0:
        return []
    tracks, a = [], idx[0]
    for p, q in zip(idx[:-1], idx[1:]):
        gap = q - p - 1
        jump = np.linalg.norm(raw.centre_px[q] - raw.centre_px[p]) > cfg.jump_iod * max(
            raw.iod_px[p], 1.0
        )
        ratio = raw.iod_px[q] / max(raw.iod_px[p], 1e-6)
        rescale = ratio > cfg.jump_scale or ratio < 1.0 / cfg.jump_scale
        cut = bool(raw.scene_cut[p + 1 : q + 1].any())
        if gap > max_gap or jump or rescale or cut:
            tracks.append((a, p + 1))
            a = q
    tracks.append((a, idx[-1] + 1))
    min_len = int(np.ceil(cfg.min_track_s * raw.fps))
    return [(a, b) for a, b in tracks if b - a >= min_len]


def _hysteresis(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """True on every run of ``x < high`` that dips below ``low`` somewhere."""
    out = np.zeros(len(x), bool)
    for a, b in runs(x < high):
        if (x[a:b] < low).any():
            out[a:b] = True
    return out


def _hampel_all(
    x: np.ndarray, valid: np.ndarray, half: int, cfg: ExtractConfig, floor_deg: float
) -> np.ndarray:
    bad = np.zeros(len(x), bool)
    for j in range(x.shape[1]):
        bad |= hampel_outliers(x[:, j], valid, half, cfg.hampel_sigmas, np.radians(floor_deg))
    return bad


def process_track(raw: RawFrames, a: int, b: int, cfg: ExtractConfig) -> TrackResult:
    """Steps 2-8 of the module docstring for local frames [a, b) of ``raw``."""
    sl = slice(a, b)
    n = b - a
    fps = raw.fps
    found = raw.found[sl] & (raw.in_image[sl] >= cfg.min_in_image)
    M = body_from_camera_for_position(np.median(raw.t_c_mm[sl][found], axis=0))
    R_b = M @ raw.R_ct[sl]  # (n, 3, 3)
    head_raw = head_from_rotation(R_b)
    head_raw[:, 1:] = np.unwrap(head_raw[:, 1:], axis=0)  # yaw/roll continuous in a track

    # fit confidence and head validity
    rel = raw.rms_px[sl] / np.maximum(raw.iod_px[sl], 1e-6)
    fit_conf = np.exp(-0.5 * (rel / cfg.fit_tol) ** 2) * np.clip(raw.in_image[sl], 0, 1)
    fit_conf[~found] = 0.0
    head_ok = found & (fit_conf >= cfg.min_fit_confidence)

    # eyes: blink, visibility, eye range
    open_rel = np.zeros((n, 2))
    closed = np.zeros((n, 2), bool)
    for e in range(2):
        seen = head_ok & (raw.visibility[sl, e] > 0)
        level = np.median(raw.openness[sl, e][seen]) if seen.any() else 1.0
        open_rel[:, e] = raw.openness[sl, e] / max(level, 1e-6)
        closed[:, e] = _hysteresis(open_rel[:, e], cfg.blink_ratio, cfg.blink_release_ratio)
    w_eye = raw.visibility[sl] * (~closed) * raw.eye_hit[sl]  # (n, 2)
    blink = head_ok & closed.all(axis=1)
    d_h = (raw.eye_dir_h[sl] * w_eye[..., None]).sum(axis=1)  # (n, 3) cyclopean
    norm = np.linalg.norm(d_h, axis=-1)
    eye_ok = head_ok & (w_eye.sum(axis=1) > 0.05) & (norm > 1e-6)
    d_h = np.where(eye_ok[:, None], d_h / np.maximum(norm, 1e-9)[:, None], [1.0, 0.0, 0.0])
    eye = pitch_yaw_from_direction(d_h)
    eye_ok &= np.degrees(np.hypot(eye[:, 0], eye[:, 1])) <= cfg.max_eye_deg
    gaze_raw = pitch_yaw_from_direction(np.einsum("nij,nj->ni", R_b, d_h))
    gaze_raw[:, 1] = np.unwrap(gaze_raw[:, 1])
    confidence = fit_conf * np.max(w_eye, axis=1)

    # outliers
    half = max(1, int(round(cfg.hampel_half_window_s * fps)))
    head_bad = _hampel_all(head_raw, head_ok, half, cfg, cfg.hampel_floor_head_deg)
    head_valid = head_ok & ~head_bad
    gaze_bad = _hampel_all(gaze_raw, eye_ok & head_valid, half, cfg, cfg.hampel_floor_gaze_deg)
    gaze_valid = eye_ok & head_valid & ~gaze_bad

    # gaps, smoothing
    max_gap = _max_gap_frames(cfg, fps)
    head_f, filled_h = fill_short_gaps(head_raw, head_valid, max_gap)
    head_valid_f = head_valid | filled_h
    gaze_f, filled_g = fill_short_gaps(gaze_raw, gaze_valid, max_gap)
    gaze_valid_f = (gaze_valid | filled_g) & head_valid_f
    head_s = gaussian_smooth(head_f, head_valid_f, cfg.head_sigma_s * fps)
    gaze_s = gaussian_smooth(gaze_f, gaze_valid_f, cfg.gaze_sigma_s * fps)

    # invalid samples must stay finite: hold the nearest valid value (docs/design.md §3 format)
    head_s = _hold(head_s, head_valid_f)
    gaze_s = _hold(gaze_s, gaze_valid_f)

    t_src = (raw.start + np.arange(a, b)) / fps
    both = head_valid_f & gaze_valid_f
    t_out, xs, v_out = resample_linear(
        t_src, np.concatenate([head_s, gaze_s], 1), both, cfg.fps_out
    )
    stats = {
        "frames_src": n,
        "found_fraction": float(found.mean()),
        "head_valid_fraction_raw": float(head_ok.mean()),
        "blink_fraction": float(blink.mean()),
        "head_outlier_frames": int(head_bad.sum()),
        "gaze_outlier_frames": int(gaze_bad.sum()),
        "eye_range_rejected_frames": int((head_ok & (w_eye.sum(1) > 0.05) & ~eye_ok).sum()),
        "filled_frames": int(((filled_h | filled_g) & both).sum()),
        "valid_fraction_src": float(both.mean()),
        "mean_confidence": float(confidence.mean()),
    }
    return TrackResult(
        start=int(raw.start + a),
        stop=int(raw.start + b),
        fps_src=fps,
        body_from_camera=M,
        head_src=head_s,
        gaze_src=gaze_s,
        eye_src=eye,
        head_raw=head_raw,
        gaze_raw=gaze_raw,
        head_valid_src=head_valid_f,
        gaze_valid_src=gaze_valid_f,
        blink_src=blink,
        confidence_src=confidence,
        openness_src=open_rel,
        t_out_s=t_out,
        head=xs[:, :3].astype(np.float32),
        gaze=xs[:, 3:].astype(np.float32),
        valid=v_out,
        stats=stats,
    )


def _hold(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Replace invalid rows by the nearest valid row (previous, else next); all-invalid -> 0."""
    if valid.all():
        return x
    out = x.copy()
    idx = np.nonzero(valid)[0]
    if len(idx) == 0:
        return np.zeros_like(x)
    pos = np.searchsorted(idx, np.arange(len(x)), side="right") - 1
    pos = np.where(pos < 0, 0, pos)
    out[~valid] = x[idx[pos[~valid]]]
    return out


def process_raw(raw: RawFrames, cfg: ExtractConfig) -> list[TrackResult]:
    return [process_track(raw, a, b, cfg) for a, b in split_tracks(raw, cfg)]
