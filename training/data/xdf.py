"""A small reader of XDF, the Lab Streaming Layer recording format (numpy only).

An XDF file is the magic ``XDF:`` followed by chunks. Each chunk is ``[n][length][tag]
[content]``: ``n`` (one byte: 1, 4 or 8) is the width of ``length`` (little-endian unsigned),
``length`` counts the 2-byte ``tag`` and the content. Tags: 1 file header (XML), 2 stream
header (uint32 stream id + XML ``<info>``: name, type, channel_count, nominal_srate,
channel_format, desc/channels/channel/label), 3 samples, 4 clock offset (stream id,
float64 collection time, float64 offset), 5 boundary (a 16-byte marker for resyncing a
damaged file), 6 stream footer (stream id + XML).

A samples chunk holds the stream id, a variable-length sample count (``[n][count]`` as
above) and the samples; each sample is a timestamp-width byte (0 or 8), the float64
timestamp when it is 8 (when it is 0 the time is the previous sample's plus
1/nominal_srate), then ``channel_count`` values of the stream's format (little-endian
numbers; a string value is ``[n][length][utf-8 bytes]``).

Timestamps are the sender's LSL clock. :func:`read_xdf` adds the clock offsets recorded for
the stream (a least-squares line of offset on collection time, as the reference reader
does without its jitter options), which puts every stream on the recording machine's clock.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import numpy as np

__all__ = ["XdfError", "XdfStream", "read_xdf"]

_FORMATS = {
    "float32": np.dtype("<f4"),
    "double64": np.dtype("<f8"),
    "int8": np.dtype("<i1"),
    "int16": np.dtype("<i2"),
    "int32": np.dtype("<i4"),
    "int64": np.dtype("<i8"),
}


class XdfError(ValueError):
    """The file is not XDF or is damaged; the message names the file and the byte offset."""


@dataclass
class XdfStream:
    """One stream: its header fields and its samples on the recorder's clock."""

    stream_id: int
    name: str
    type: str
    channel_format: str
    nominal_srate: float
    channel_labels: list[str]
    time_stamps: np.ndarray  # (N,) float64 seconds
    time_series: np.ndarray | list[list[str]]  # (N, C) numeric, or N lists of C strings
    header_xml: str = ""
    footer_xml: str = ""
    clock_offsets: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))

    def channel(self, label: str) -> np.ndarray:
        """One numeric channel by its label (N,)."""
        if label not in self.channel_labels:
            raise KeyError(f"stream {self.name!r} has no channel {label!r} ({self.channel_labels})")
        return np.asarray(self.time_series)[:, self.channel_labels.index(label)]


class _Reader:
    def __init__(self, data: bytes, path: str) -> None:
        self.d = data
        self.i = 0
        self.path = path

    def fail(self, what: str) -> XdfError:
        return XdfError(f"{self.path}: {what} at byte {self.i}")

    def take(self, n: int) -> bytes:
        if self.i + n > len(self.d):
            raise self.fail(f"truncated ({n} bytes wanted)")
        b = self.d[self.i : self.i + n]
        self.i += n
        return b

    def varlen(self) -> int:
        n = self.take(1)[0]
        if n not in (1, 4, 8):
            raise self.fail(f"length width {n} (expected 1, 4 or 8)")
        return int.from_bytes(self.take(n), "little")


def _header(xml: str) -> dict:
    root = ET.fromstring(xml)
    labels = [(ch.findtext("label") or "") for ch in root.findall("./desc/channels/channel")]
    return {
        "name": root.findtext("name") or "",
        "type": root.findtext("type") or "",
        "channel_count": int(root.findtext("channel_count") or 0),
        "nominal_srate": float(root.findtext("nominal_srate") or 0.0),
        "channel_format": root.findtext("channel_format") or "",
        "labels": labels,
    }


def _read_samples(r: _Reader, end: int, h: dict, last_t: float) -> tuple[list, list, float]:
    count = r.varlen()
    fmt = h["channel_format"]
    C = h["channel_count"]
    dt = 1.0 / h["nominal_srate"] if h["nominal_srate"] > 0 else 0.0
    ts, vals = [], []
    for _ in range(count):
        w = r.take(1)[0]
        if w == 8:
            last_t = struct.unpack("<d", r.take(8))[0]
        elif w == 0:
            last_t = last_t + dt
        else:
            raise r.fail(f"timestamp width {w} (expected 0 or 8)")
        ts.append(last_t)
        if fmt == "string":
            vals.append([r.take(r.varlen()).decode("utf-8", "replace") for _ in range(C)])
        else:
            dtype = _FORMATS.get(fmt)
            if dtype is None:
                raise r.fail(f"unknown channel_format {fmt!r}")
            vals.append(np.frombuffer(r.take(C * dtype.itemsize), dtype=dtype))
    if r.i != end:
        raise r.fail(f"samples chunk ends at {r.i}, its length says {end}")
    return ts, vals, last_t


def read_xdf(path: str, *, sync_clocks: bool = True) -> list[XdfStream]:
    """All streams of an XDF file, in stream-id order."""
    with open(path, "rb") as f:
        data = f.read()
    r = _Reader(data, path)
    if r.take(4) != b"XDF:":
        raise XdfError(f"{path}: not an XDF file (no 'XDF:' magic)")
    heads: dict[int, dict] = {}
    xml_h: dict[int, str] = {}
    xml_f: dict[int, str] = {}
    ts: dict[int, list] = {}
    vals: dict[int, list] = {}
    last: dict[int, float] = {}
    offs: dict[int, list] = {}
    while r.i < len(data):
        length = r.varlen()
        end = r.i + length
        if length < 2 or end > len(data):
            raise r.fail(f"chunk length {length} runs past the end ({len(data)} bytes)")
        tag = struct.unpack("<H", r.take(2))[0]
        if tag in (2, 3, 4, 6):
            sid = struct.unpack("<I", r.take(4))[0]
            if tag == 2:
                xml_h[sid] = r.take(end - r.i).decode("utf-8", "replace")
                heads[sid] = _header(xml_h[sid])
                ts[sid], vals[sid], last[sid], offs[sid] = [], [], 0.0, []
            elif sid not in heads:
                raise r.fail(f"chunk tag {tag} for stream {sid} before its header")
            elif tag == 3:
                t, v, last[sid] = _read_samples(r, end, heads[sid], last[sid])
                ts[sid] += t
                vals[sid] += v
            elif tag == 4:
                offs[sid].append(struct.unpack("<dd", r.take(16)))
            else:
                xml_f[sid] = r.take(end - r.i).decode("utf-8", "replace")
        r.i = end  # file header, boundary and unknown chunks are skipped
    out = []
    for sid in sorted(heads):
        h = heads[sid]
        t = np.asarray(ts[sid], dtype=np.float64)
        off = np.asarray(offs[sid], dtype=np.float64).reshape(-1, 2)
        if sync_clocks and len(off) and len(t):
            if len(off) >= 2 and np.ptp(off[:, 0]) > 0:
                slope, icpt = np.polyfit(off[:, 0], off[:, 1], 1)
                t = t + (icpt + slope * t)
            else:
                t = t + off[0, 1]
        if h["channel_format"] == "string":
            series: np.ndarray | list = vals[sid]
        else:
            dtype = _FORMATS[h["channel_format"]]
            series = np.stack(vals[sid]) if vals[sid] else np.zeros((0, h["channel_count"]), dtype)
        labels = h["labels"] if len(h["labels"]) == h["channel_count"] else []
        out.append(
            XdfStream(
                stream_id=sid,
                name=h["name"],
                type=h["type"],
                channel_format=h["channel_format"],
                nominal_srate=h["nominal_srate"],
                channel_labels=labels,
                time_stamps=t,
                time_series=series,
                header_xml=xml_h[sid],
                footer_xml=xml_f.get(sid, ""),
                clock_offsets=off,
            )
        )
    return out
