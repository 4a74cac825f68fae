"""One picture per clip: sampled frames with head axes and gaze arrows, series below.

Overlays (drawn from the *filtered* head and gaze, mapped back into the camera):

* head axes from the nose tip, 50 mm long: red = head x (forward, out of the face),
  green = head y (subject's left), blue = head z (up);
* gaze: a yellow arrow from each iris centre along the cyclopean gaze direction (60 mm);
* frames where the output is invalid get a red border; the label gives frame index and
  gaze/head yaw in degrees.

The plot below shows gaze and head angles in degrees over the source time (left yaw and up
pitch positive, roll positive toward the right shoulder), with invalid stretches shaded
and the sampled frames marked.
"""

from __future__ import annotations

import os

import numpy as np

from .head_pose import project_points
from .template import load_template

__all__ = ["write_preview"]

_AXIS_MM = 50.0
_GAZE_MM = 60.0
_NOSE_TIP = 1


def _sample_frames(res, n: int) -> list[tuple[int, int]]:
    """(track index, local frame) pairs: the extreme gaze and head yaws, then evenly spread.

    Extremes first because a reader checks signs on them: a frame where the extraction
    says "looking far left" must show it.
    """
    pairs = [(k, i) for k, t in enumerate(res.tracks) for i in range(t.stop - t.start)]
    if not pairs:
        return []
    chosen: list[tuple[int, int]] = []
    for key in ("gaze", "head"):
        vals = [
            (getattr(res.tracks[k], f"{key}_src")[i, 1], (k, i))
            for k, i in pairs
            if res.tracks[k].head_valid_src[i] and res.tracks[k].gaze_valid_src[i]
        ]
        if vals:
            chosen += [min(vals)[1], max(vals)[1]]
    for j in np.linspace(0, len(pairs) - 1, n + 2)[1:-1].round().astype(int):
        if len(set(chosen)) >= n:
            break
        chosen.append(pairs[j])
    uniq = sorted(set(chosen), key=lambda p: res.tracks[p[0]].start + p[1])
    return uniq[:n]


def _overlay(frame: np.ndarray, res, tr, i: int) -> np.ndarray:
    import cv2  # noqa: PLC0415

    raw = res.raw
    cam = raw.camera
    img = frame.copy()
    j = tr.start - raw.start + i  # index into raw
    M = tr.body_from_camera
    from gazehead_rt.geometry import direction_from_pitch_yaw, head_rotation_matrix  # noqa

    R_c = M.T @ head_rotation_matrix(tr.head_src[i])  # head frame -> camera
    tmpl = load_template()
    origin = R_c @ tmpl.points_mm[_NOSE_TIP] + raw.t_c_mm[j]
    ends = origin + _AXIS_MM * R_c.T  # rows: the three head axes in the camera
    o2 = project_points(origin, cam)
    scale = max(1, int(round(img.shape[0] / 256)))
    for e, color in zip(ends, [(0, 0, 255), (0, 200, 0), (255, 64, 0)]):
        cv2.arrowedLine(
            img,
            tuple(np.int32(o2)),
            tuple(np.int32(project_points(e, cam))),
            color,
            2 * scale,
            tipLength=0.15,
        )
    d_c = M.T @ direction_from_pitch_yaw(tr.gaze_src[i])
    for e in range(2):
        iris = raw.iris_px[j, e]
        # the iris's 3D position: its ray at the depth of the head origin is close enough
        ray = cam.ray(iris)
        p3 = ray * (raw.t_c_mm[j, 2] / ray[2])
        tip = project_points(p3 + _GAZE_MM * d_c, cam)
        cv2.arrowedLine(
            img,
            tuple(np.int32(iris)),
            tuple(np.int32(tip)),
            (0, 230, 255),
            2 * scale,
            tipLength=0.25,
        )
    ok = tr.head_valid_src[i] and tr.gaze_valid_src[i]
    if not ok:
        cv2.rectangle(img, (0, 0), (img.shape[1] - 1, img.shape[0] - 1), (0, 0, 255), 6 * scale)
    g, h = np.degrees(tr.gaze_src[i]), np.degrees(tr.head_src[i])
    lines = [
        f"frame {tr.start + i}",
        f"gaze yaw {g[1]:+.0f} pitch {g[0]:+.0f}",
        f"head yaw {h[1]:+.0f} roll {h[2]:+.0f}",
    ]
    for n, text in enumerate(lines):
        org = (5 * scale, (16 + 15 * n) * scale)
        for color, th in (((0, 0, 0), 3), ((255, 255, 255), 1)):
            cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.42 * scale, color, th * scale)
    return img[:, :, ::-1]  # BGR -> RGB for matplotlib


def write_preview(res, path: str, n_frames: int = 6, transform=None) -> str:
    """Write the preview PNG of a :class:`pipeline.VideoResult` (atomically)."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from .landmarks import iter_frames  # noqa: PLC0415

    picks = _sample_frames(res, n_frames)
    want = {res.tracks[k].start + i: (k, i) for k, i in picks}
    tiles = {}
    if want:
        for idx, frame in iter_frames(res.path, stop=max(want) + 1, transform=transform):
            if idx in want:
                k, i = want[idx]
                tiles[idx] = _overlay(frame, res, res.tracks[k], i)
    fig = plt.figure(figsize=(3.0 * max(n_frames, 1), 3.0 + 5.0), dpi=100)
    gs = fig.add_gridspec(3, max(n_frames, 1), height_ratios=[3.0, 2.5, 2.5])
    for c, idx in enumerate(sorted(tiles)):
        ax = fig.add_subplot(gs[0, c])
        ax.imshow(tiles[idx])
        ax.set_axis_off()
    axg = fig.add_subplot(gs[1, :])
    axh = fig.add_subplot(gs[2, :], sharex=axg)
    for k, tr in enumerate(res.tracks):
        t = (tr.start + np.arange(tr.stop - tr.start)) / res.fps_src
        lab = k == 0
        axg.plot(t, np.degrees(tr.gaze_src[:, 1]), "C0", lw=1.2, label="gaze yaw" if lab else None)
        axg.plot(
            t, np.degrees(tr.gaze_src[:, 0]), "C1", lw=1.2, label="gaze pitch" if lab else None
        )
        axg.plot(
            t,
            np.degrees(tr.eye_src[:, 1]),
            "C0",
            lw=0.6,
            alpha=0.4,
            ls="--",
            label="eye-in-head yaw (raw)" if lab else None,
        )
        axh.plot(t, np.degrees(tr.head_src[:, 1]), "C0", lw=1.2, label="head yaw" if lab else None)
        axh.plot(
            t, np.degrees(tr.head_src[:, 0]), "C1", lw=1.2, label="head pitch" if lab else None
        )
        axh.plot(t, np.degrees(tr.head_src[:, 2]), "C2", lw=1.2, label="head roll" if lab else None)
        bad = ~(tr.head_valid_src & tr.gaze_valid_src)
        for ax in (axg, axh):
            ax.fill_between(
                t,
                0,
                1,
                where=bad,
                transform=ax.get_xaxis_transform(),
                color="red",
                alpha=0.15,
                lw=0,
                label="invalid" if (lab and ax is axh) else None,
            )
            ax.fill_between(
                t,
                0,
                1,
                where=tr.blink_src,
                transform=ax.get_xaxis_transform(),
                color="purple",
                alpha=0.15,
                lw=0,
                label="blink" if (lab and ax is axh) else None,
            )
    # frames with no track at all
    covered = np.zeros(res.frames_src, bool)
    for tr in res.tracks:
        covered[tr.start - res.raw.start : tr.stop - res.raw.start] = True
    t_all = (res.raw.start + np.arange(res.frames_src)) / res.fps_src
    axh.fill_between(
        t_all,
        0,
        1,
        where=~covered,
        transform=axh.get_xaxis_transform(),
        color="grey",
        alpha=0.3,
        lw=0,
        label="no track",
    )
    for idx in tiles:
        for ax in (axg, axh):
            ax.axvline(idx / res.fps_src, color="k", lw=0.6, ls=":")
    axg.set_ylabel("gaze (deg)")
    axh.set_ylabel("head (deg)")
    axh.set_xlabel("time (s)")
    for ax in (axg, axh):
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=7, ncol=4)
    vf = res.valid_fraction
    fig.suptitle(
        f"{os.path.basename(res.path)}: {len(res.tracks)} track(s), "
        f"valid {vf:.0%} at {res.fps_out:g} fps, source {res.fps_src:g} fps, "
        f"focal {res.focal_px:.0f} px",
        fontsize=10,
    )
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp.png"
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
    return path
