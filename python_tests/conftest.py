import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # training/ is imported from the source tree
    sys.path.insert(0, ROOT)


def shared_data_dir() -> str:
    return os.environ.get("GAZEHEAD_DATA", os.path.join(ROOT, "..", "shared", "data"))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
