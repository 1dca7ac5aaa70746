"""Named random streams from one seed.

Each process draws from its own stream, derived from the run's seed and the stream's name
(not from the order streams are created). Two scenarios run with the same seed therefore use the
same random numbers for the same process: common random numbers, which make paired scenario
comparisons precise. Nothing in QuartierSim uses the global ``random`` or ``np.random`` state.
"""

from __future__ import annotations

import zlib

import numpy as np

STREAMS = (
    "population",  # synthesis of the initial households
    "mortality",
    "fertility",
    "leaving_home",
    "housing",  # construction and bindings
    "mobility",  # move decisions and choices of residents
    "in_migration",
    "mesa",  # handed to mesa.Model
)


def stream_key(name: str) -> int:
    """A stable integer for a stream name (CRC-32, the same on every platform)."""
    return zlib.crc32(name.encode("utf-8"))


def make_streams(seed: int, names: tuple[str, ...] = STREAMS) -> dict[str, np.random.Generator]:
    """One independent ``numpy.random.Generator`` per name, all derived from ``seed``."""
    root = np.random.SeedSequence(seed)
    return {
        name: np.random.Generator(
            np.random.PCG64(
                np.random.SeedSequence(root.entropy, spawn_key=(stream_key(name),))
            )
        )
        for name in names
    }
