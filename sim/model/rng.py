"""Random numbers from one seed: named streams, and draws keyed to persons and households.

Each process draws from its own stream, derived from the run's seed and the stream's name
(not from the order streams are created). Draws that belong to one person or household (dying,
giving birth, leaving home, moving, a newcomer's income) are *keyed*: they depend only on the
stream, the year and the agent's id (:func:`keyed_uniform`), not on its row or on what was
drawn before. Two scenarios run with the same seed therefore give the same person the same
random number for the same event, even after a lever has changed who lives where: common random
numbers that stay aligned, which makes paired scenario comparisons precise. Draws that are not
about one agent (population synthesis, construction, how many newcomers look for a dwelling)
come from the named ``numpy.random.Generator`` streams. Nothing in QuartierSim uses the global
``random`` or ``np.random`` state.
"""

from __future__ import annotations

import zlib

import numpy as np
from numba import njit

STREAMS = (
    "population",  # synthesis of the initial households and their housing
    "housing",  # construction and bought bindings
    "in_migration",  # how many newcomers look for a dwelling, and their household types
    "mesa",  # handed to mesa.Model
)
# Streams whose draws are keyed to persons and households (see below).
KEYED_STREAMS = (
    "mortality",
    "fertility",
    "leaving_home",
    "mobility",  # move decisions and choices of residents
    "in_migration",  # newcomers' choices, incomes and origins
    "kitas",  # which children want a day-care place, and their priority
    "ids",  # ids of agents born, founded or arriving during the run
    "care",  # care need, its kind and service priority (fixed per person)
    "jobs",  # employment, job location, car ownership (fixed per person / household)
    "employment",  # employment status moves and earnings potentials
    "schools",  # the order in which pupils take school places
    "partnership",  # who looks for a partner, and the pairing
    "separation",  # which couples separate, who leaves, when start couples formed
    "education_job",  # young adults leaving for education or a job elsewhere
    "doctors",  # GPs' retirement, refill of their seats and new doctors' ages (per doctor)
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


# -- keyed random numbers --------------------------------------------------------------------
#
# Draws that belong to one person or household (does she die this year, does the household
# move) come from a counter-based generator: the number depends only on the stream's key, the
# year, the agent's id and a slot, not on the agent's row or on how many draws came before.
# Two scenarios run with the same seed therefore give the same person the same number for the
# same event even after a lever has moved other households around, which keeps common random
# numbers aligned. The mixing function is SplitMix64 (Steele, Lea & Flood 2014).

@njit(cache=True, inline="always")
def _mix64(x):
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True, inline="always")
def keyed_uniform(key, year, agent, slot):
    """One uniform number in [0, 1) for (stream key, year, agent id, slot)."""
    x = _mix64(np.uint64(key) ^ np.uint64(year))
    x = _mix64(x ^ np.uint64(agent))
    x = _mix64(x ^ np.uint64(slot))
    return (x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def keyed_base(key, year, agent):
    """The part of :func:`keyed_uniform` shared by all slots of one agent and year."""
    return _mix64(_mix64(np.uint64(key) ^ np.uint64(year)) ^ np.uint64(agent))


@njit(cache=True, inline="always")
def uniform_from(base, slot):
    """``keyed_uniform(key, year, agent, slot)`` from ``keyed_base(key, year, agent)``."""
    x = _mix64(base ^ np.uint64(slot))
    return (x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def keyed_uniforms(key, year, agents, slot):
    """Uniform numbers in [0, 1), one per agent id (see :func:`keyed_uniform`)."""
    out = np.empty(agents.size)
    for i in range(agents.size):
        out[i] = keyed_uniform(key, year, agents[i], slot)
    return out


@njit(cache=True)
def derived_ids(key, parents, slot):
    """New agent ids derived from parent ids (a newborn from its mother, a new household from
    the person who founds it): the same in every scenario where the same event happens."""
    out = np.empty(parents.size, np.uint64)
    for i in range(parents.size):
        out[i] = _mix64(_mix64(np.uint64(key) ^ np.uint64(parents[i])) ^ np.uint64(slot))
    return out


def stream_keys(seed: int, names: tuple[str, ...] = KEYED_STREAMS) -> dict[str, np.uint64]:
    """One 64-bit key per stream name for the keyed generator, derived from ``seed``."""
    root = np.random.SeedSequence(seed)
    return {
        name: np.uint64(np.random.SeedSequence(
            root.entropy, spawn_key=(stream_key(name), 1)).generate_state(1, np.uint64)[0])
        for name in names
    }
