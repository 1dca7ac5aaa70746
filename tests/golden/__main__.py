"""Regenerate the golden outputs: ``python -m tests.golden [NAME-PREFIX ...]``."""

from __future__ import annotations

import sys

import sim  # before numpy (sim.numerics)
from tests.golden import CASES, write

if not sim.numerics.portable():
    sys.exit("numpy runs its AVX-512 paths in this process: golden files would not match other "
             "machines (import sim before numpy, see sim.numerics)")

prefixes = tuple(sys.argv[1:])
for case in CASES:
    if prefixes and not case.name.startswith(prefixes):
        continue
    for path in write(case):
        print(path)
