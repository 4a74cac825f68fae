"""Tests run against the installed package (gazehead_rt, with gazehead_rt.training), never the source tree,
so they check what users get. reference.py beside this file holds the independent references."""

import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The installed library cannot know where this checkout is; point its data defaults at the
# shared data beside the checkout unless the caller chose another place.
os.environ.setdefault("GAZEHEAD_DATA", os.path.join(ROOT, "..", "shared", "data"))


def shared_data_dir() -> str:
    """../shared/data next to the checkout, or $GAZEHEAD_DATA."""
    return os.environ["GAZEHEAD_DATA"]


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
