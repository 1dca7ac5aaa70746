"""sim.numerics: the AVX2 code paths of numpy and OpenBLAS on AVX-512 machines."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sim import numerics

AVX2 = {"avx2", "fma", "sse4_2"}
AVX512 = AVX2 | {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}
ICL = AVX512 | {"avx512vbmi", "avx512_vbmi2", "avx512_bitalg", "avx512_vpopcntdq"}


@pytest.mark.parametrize("flags,machine,expected", [
    (AVX2, "x86_64", {}),
    (AVX512, "x86_64", {"NPY_DISABLE_CPU_FEATURES": "X86_V4", "OPENBLAS_CORETYPE": "Haswell"}),
    (ICL, "x86_64", {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL",
                     "OPENBLAS_CORETYPE": "Haswell"}),
    (ICL | {"avx512_fp16"}, "x86_64", {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
                                       "OPENBLAS_CORETYPE": "Haswell"}),
    (AVX512, "aarch64", {}),
])
def test_settings_by_processor(monkeypatch, flags, machine, expected):
    monkeypatch.setattr(numerics, "_cpu_flags", lambda: set(flags))
    monkeypatch.setattr(numerics.platform, "machine", lambda: machine)
    assert numerics.settings() == expected


def _probe(code: str, **env) -> str:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE")} | env
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True,
                          text=True, check=True).stdout.strip()


def test_import_sim_first_gives_the_shared_paths():
    assert _probe("import sim, numpy; print(sim.numerics.portable())") == "True"


def test_numpy_first_is_detected_where_it_matters():
    got = _probe("import numpy, sim; print(sim.numerics.portable())")
    assert got == str(not numerics.needs_settings())


def test_the_user_can_keep_numpys_choice():
    got = _probe("import sim, os; print(os.environ.get('NPY_DISABLE_CPU_FEATURES'))",
                 QUARTIER_NATIVE_NUMERICS="1")
    assert got == "None"
