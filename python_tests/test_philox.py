"""The noise every backend shares: Philox4x32-10 and its Box-Muller normals (docs/design.md §4)."""

import numpy as np
import pytest

import gazehead_rt as gh
from gazehead_rt._native import native

from reference import normals_np, philox4x32_10_np

# Known-answer vectors of Philox4x32-10 published with Random123 (kat_vectors).
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize("ctr,key,expected", KAT)
def test_known_answers(ctr, key, expected):
    assert native().philox4x32_10(*ctr, *key) == expected
    np.testing.assert_array_equal(
        philox4x32_10_np(np.array(ctr, np.uint32), np.array(key, np.uint32)), expected
    )


def test_native_matches_numpy_reference(rng):
    ctr = rng.integers(0, 2**32, size=(200, 4), dtype=np.uint64).astype(np.uint32)
    key = rng.integers(0, 2**32, size=(200, 2), dtype=np.uint64).astype(np.uint32)
    ref = philox4x32_10_np(ctr, key)
    got = np.array([native().philox4x32_10(*map(int, c), *map(int, k)) for c, k in zip(ctr, key)])
    np.testing.assert_array_equal(got, ref)


def test_normals_follow_the_spec_and_are_standard(rng):
    n, latent = 4000, 10  # 10 lanes: exercises a partial last Philox block
    agents = rng.integers(0, 10**6, n)
    episode = rng.integers(0, 5, n)
    frame = rng.integers(0, 10**6, n)
    eps = gh.philox_normal(7, agents, episode, frame, latent)
    assert eps.shape == (n, latent) and eps.dtype == np.float32
    # float32 Box-Muller vs float64: sqrt(-2 log u) amplifies rounding only in the far tail
    np.testing.assert_allclose(eps, normals_np(7, agents, episode, frame, latent), atol=2e-5)
    x = eps.reshape(-1).astype(np.float64)
    assert abs(x.mean()) < 0.02 and abs(x.std() - 1.0) < 0.02  # 40k draws: ~5 sigma bounds
    assert abs(np.mean(x**4) - 3.0) < 0.15  # Gaussian kurtosis


def test_noise_depends_on_each_key_and_counter_field():
    base = gh.philox_normal(1, [3], [0], [10], 8)
    for kw in ({"seed": 2}, {"agents": [4]}, {"episode": [1]}, {"frame": [11]}):
        args = {"seed": 1, "agents": [3], "episode": [0], "frame": [10], "latent": 8} | kw
        assert not np.allclose(gh.philox_normal(**args), base), kw
