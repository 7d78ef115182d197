"""``edgeiqa.baselines.cache``: per-image feature cache, rebuilt when damaged."""

from __future__ import annotations

import numpy as np
import pytest

from edgeiqa.baselines.cache import cache_key, cached_features
from edgeiqa.errors import DataError


def test_features_are_cached_and_a_damaged_entry_is_rebuilt(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    image = tmp_path / "img.png"
    image.write_bytes(b"stands in for an image: only its identity is hashed")
    calls = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(4.0)

    first = cached_features("demo", image, "v1", compute)
    assert np.array_equal(cached_features("demo", image, "v1", compute), first)
    assert len(calls) == 1
    entry = tmp_path / "cache" / "baselines" / "demo" / f"{cache_key(image, 'v1')}.npy"
    entry.write_bytes(b"")  # a killed write
    capsys.readouterr()
    assert np.array_equal(cached_features("demo", image, "v1", compute), first)
    assert len(calls) == 2
    notice = capsys.readouterr().err.strip().splitlines()
    assert len(notice) == 1 and str(entry) in notice[0] and "rebuilt" in notice[0]


def test_unwritable_feature_cache_is_a_one_line_error(tmp_path, monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("EDGEIQA_CACHE", str(blocker))
    image = tmp_path / "img.png"
    image.write_bytes(b"x")
    with pytest.raises(DataError, match="feature cache not writable") as info:
        cached_features("demo", image, "v1", lambda: np.zeros(2))
    assert "\n" not in str(info.value)
