"""Data layer: the docs/design.md §3 sequence format, importers and the procedural generator."""

from .dataset import (
    FORMAT_VERSION,
    SPLITS,
    Clip,
    DatasetError,
    load_dataset,
    read_clip,
    read_manifest,
    write_clip,
    write_dataset,
    write_manifest,
)

__all__ = [
    "FORMAT_VERSION",
    "SPLITS",
    "Clip",
    "DatasetError",
    "load_dataset",
    "read_clip",
    "read_manifest",
    "write_clip",
    "write_dataset",
    "write_manifest",
]
