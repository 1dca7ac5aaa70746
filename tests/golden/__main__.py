"""Regenerate the golden outputs: ``python -m tests.golden [NAME-PREFIX ...]``."""

from __future__ import annotations

import sys

from tests.golden import CASES, write

prefixes = tuple(sys.argv[1:])
for case in CASES:
    if prefixes and not case.name.startswith(prefixes):
        continue
    for path in write(case):
        print(path)
