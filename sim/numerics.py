"""The same results on every x86-64 machine.

numpy and its OpenBLAS pick code paths by the processor at import time. On a processor with
AVX-512, numpy's own ``exp``, ``log``, ``power``, ``tanh`` … (the X86_V4 paths) and OpenBLAS's
SkylakeX kernels round some results differently in the last bit from the AVX2 paths that every
other current x86-64 processor takes. A model whose choices compare such numbers then takes a
different path: the same scenario and seed gave other outcomes on an AVX-512 machine than on an
AVX2 one (the golden outputs of ``tests/golden`` differed in 72 % of their values, from the
start state on).

:func:`configure` therefore asks numpy and OpenBLAS for the AVX2 paths before they are
imported (``NPY_DISABLE_CPU_FEATURES=X86_V4 …``, ``OPENBLAS_CORETYPE=Haswell``), on a processor
that has AVX-512; elsewhere it changes nothing. ``import sim`` calls it, so it acts whenever
``sim`` is imported before numpy (the ``quartier`` command, scripts that start with
``import sim``, worker processes, which inherit the environment). Variables already set by the
user are kept; ``QUARTIER_NATIVE_NUMERICS=1`` leaves numpy's choice alone. :func:`portable`
tells whether the process runs with the AVX2 paths (or needs none), which the golden-output test
requires.
"""

from __future__ import annotations

import functools
import os
import platform
import sys

_ICL = {"avx512vbmi", "avx512_vbmi2", "avx512_bitalg", "avx512_vpopcntdq"}


@functools.cache
def _cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def settings() -> dict[str, str]:
    """The environment that selects the AVX2 paths of numpy and OpenBLAS on this processor
    (empty where they are the only ones)."""
    if not needs_settings():
        return {}
    flags = _cpu_flags()
    disable = ["X86_V4"]  # numpy warns about features the processor lacks: name only its own
    if _ICL <= flags:
        disable.append("AVX512_ICL")
        if "avx512_fp16" in flags:
            disable.append("AVX512_SPR")
    return {"NPY_DISABLE_CPU_FEATURES": " ".join(disable), "OPENBLAS_CORETYPE": "Haswell"}


def needs_settings() -> bool:
    """True on an x86-64 processor with AVX-512 (and AVX2, so the AVX2 paths run)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    flags = _cpu_flags()
    return {"avx512f", "avx2", "fma"} <= flags


def configure() -> bool:
    """Select the AVX2 paths if needed and still possible; True if the process is portable."""
    if os.environ.get("QUARTIER_NATIVE_NUMERICS", "") not in ("", "0"):
        return portable()
    if "numpy" not in sys.modules:
        for name, value in settings().items():
            os.environ.setdefault(name, value)
    return portable()


def portable() -> bool:
    """True if numpy and OpenBLAS take the same paths as on an AVX2 machine."""
    if not needs_settings():
        return True
    wanted = settings()
    if os.environ.get("OPENBLAS_CORETYPE") != wanted["OPENBLAS_CORETYPE"]:
        return False
    if "numpy" not in sys.modules:
        return os.environ.get("NPY_DISABLE_CPU_FEATURES") == wanted["NPY_DISABLE_CPU_FEATURES"]
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # another numpy layout: trust the environment
        return os.environ.get("NPY_DISABLE_CPU_FEATURES") == wanted["NPY_DISABLE_CPU_FEATURES"]
    return not any(features.get(f) for f in wanted["NPY_DISABLE_CPU_FEATURES"].split())
