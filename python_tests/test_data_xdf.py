"""XDF reader on a constructed file (chunk layout, varlen sizes, deduced timestamps, strings,
clock offsets), and the Pico Neo 2 Eye recording through the shared VR conversion: the eye
counter-rotates with gain ~1 while the gaze holds and the head turns."""

import os
import struct

import numpy as np
import pytest

from gazehead_rt.geometry import angular_distance, eye_from_gaze_head
from gazehead_rt.training.data.piconeo2eye import load_pico_clip, pico_path, read_pico_lsl
from gazehead_rt.training.data.xdf import XdfError, read_xdf


def _chunk(tag, content, width=4):
    length = len(content) + 2
    return bytes([width]) + length.to_bytes(width, "little") + struct.pack("<H", tag) + content


def _header_xml(name, fmt, count, srate, labels=()):
    chans = "".join(f"<channel><label>{lab}</label></channel>" for lab in labels)
    return (
        f"<?xml version='1.0'?><info><name>{name}</name><type>T</type>"
        f"<channel_count>{count}</channel_count><nominal_srate>{srate}</nominal_srate>"
        f"<channel_format>{fmt}</channel_format><desc><channels>{chans}</channels></desc></info>"
    ).encode()


def _write_xdf(path):
    out = b"XDF:" + _chunk(1, b"<?xml version='1.0'?><info><version>1.0</version></info>", 1)
    out += _chunk(2, struct.pack("<I", 7) + _header_xml("num", "float32", 2, 10.0, ["a", "b"]))
    out += _chunk(2, struct.pack("<I", 9) + _header_xml("txt", "string", 1, 0.0))
    # three samples: a stamped one, one deduced from the nominal rate, a stamped one
    s = bytes([1, 3])
    s += bytes([8]) + struct.pack("<d", 100.0) + struct.pack("<2f", 1.0, 2.0)
    s += bytes([0]) + struct.pack("<2f", 3.0, 4.0)
    s += bytes([8]) + struct.pack("<d", 100.5) + struct.pack("<2f", 5.0, 6.0)
    out += _chunk(3, struct.pack("<I", 7) + s, 8)
    out += _chunk(5, bytes(range(16)), 1)
    word = "héllo".encode()
    out += _chunk(
        3,
        struct.pack("<I", 9)
        + bytes([1, 1, 8])
        + struct.pack("<d", 101.0)
        + bytes([1, len(word)])
        + word,
    )
    for t_coll, off in ((100.0, -10.0), (200.0, -9.0)):  # offset drifts 0.01 s per s
        out += _chunk(4, struct.pack("<Idd", 7, t_coll, off), 1)
    out += _chunk(6, struct.pack("<I", 7) + b"<info><first_timestamp>100</first_timestamp></info>")
    with open(path, "wb") as f:
        f.write(out)


def test_reader_on_constructed_file(tmp_path):
    p = str(tmp_path / "x.xdf")
    _write_xdf(p)
    num, txt = read_xdf(p)
    assert (num.stream_id, num.name, num.channel_format, num.nominal_srate) == (
        7,
        "num",
        "float32",
        10.0,
    )
    assert num.channel_labels == ["a", "b"]
    np.testing.assert_array_equal(num.time_series, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(num.channel("b"), [2, 4, 6])
    # deduced stamp 100.1; offsets on the line -10 + 0.01 (t - 100)
    raw = np.array([100.0, 100.1, 100.5])
    np.testing.assert_allclose(num.time_stamps, raw - 10.0 + 0.01 * (raw - 100.0), atol=1e-9)
    assert "first_timestamp" in num.footer_xml
    assert txt.time_series == [["héllo"]] and txt.channel_labels == []
    np.testing.assert_allclose(txt.time_stamps, [101.0])  # no offsets recorded: unchanged
    (unsynced, _) = read_xdf(p, sync_clocks=False)
    np.testing.assert_allclose(unsynced.time_stamps, raw)
    with pytest.raises(KeyError, match="no channel 'c'"):
        num.channel("c")


def test_reader_refuses_damaged_files(tmp_path):
    p = str(tmp_path / "x.xdf")
    _write_xdf(p)
    data = open(p, "rb").read()
    bad = tmp_path / "bad.xdf"
    bad.write_bytes(b"XDX:" + data[4:])
    with pytest.raises(XdfError, match="not an XDF file"):
        read_xdf(str(bad))
    bad.write_bytes(data[:-5])
    with pytest.raises(XdfError, match="runs past the end"):
        read_xdf(str(bad))


PICO = pico_path()
needs_pico = pytest.mark.skipif(
    not os.path.isfile(PICO), reason=f"Pico recording not found at {PICO} (../shared/data)"
)


def _longest_hold(gaze, valid, tol_rad):
    """The longest run of valid frames whose gaze stays within ``tol_rad`` of its first."""
    best, k, n = (0, 0), 0, len(gaze)
    while k < n:
        j = k
        while j < n and valid[j] and angular_distance(gaze[j], gaze[k]) < tol_rad:
            j += 1
        if j - k > best[1] - best[0]:
            best = (k, j)
        k = max(j, k + 1)
    return best


@needs_pico
def test_pico_gaze_hold_counter_rotation_gain_is_one():
    clip = load_pico_clip(PICO, fps=30.0)
    assert clip.fps == 30.0 and 28.0 < clip.frames / 30.0 < 33.0 and clip.valid.mean() > 0.9
    a, b = _longest_hold(clip.gaze.astype(np.float64), clip.valid, np.radians(4.0))
    assert (b - a) / 30.0 > 10.0  # the head-turning part holds the gaze ~14 s (14.8-28.5)
    head, gaze = clip.head[a:b].astype(np.float64), clip.gaze[a:b].astype(np.float64)
    yaw = np.degrees(head[:, 1])
    assert np.ptp(yaw) > 20.0  # the head turned both ways meanwhile
    # world gaze barely moves (measured: median 0.95 deg from its median direction)
    assert np.median(np.degrees(angular_distance(gaze, np.median(gaze, 0)[None]))) < 1.5
    eye = np.degrees(eye_from_gaze_head(gaze, head))
    # counter-rotation, eye = -gain * head: measured gain 0.97 in yaw, 0.98 in pitch
    slope = np.polyfit(yaw, eye[:, 1], 1)[0]
    assert -1.2 < slope < -0.8, slope
    slope_pitch = np.polyfit(np.degrees(head[:, 0]), eye[:, 0], 1)[0]
    assert -1.2 < slope_pitch < -0.8, slope_pitch


@needs_pico
def test_pico_left_turn_is_positive_yaw():
    # Unity: the head's forward (+z local) pointing toward -x (left) must read as yaw > 0
    hs = next(s for s in read_xdf(PICO) if s.name == "Unity.VRHeadPose")
    x, y, z, w = (hs.channel(c).astype(np.float64) for c in ("RotX", "RotY", "RotZ", "RotW"))
    fwd_x = 2 * (x * z + y * w)  # x of R @ (0, 0, 1)
    _, head, _, _ = read_pico_lsl(PICO)
    turned = np.abs(fwd_x) > np.sin(np.radians(5.0))
    assert turned.sum() > 50
    assert np.all(np.sign(head[turned, 1]) == -np.sign(fwd_x[turned]))
