"""Write ``zensus_sample.csv``, a small FICTIONAL Zensus 2022 100 m population grid.

The file is made up: it is not an extract of the real Zensus and must not be read as data
about any real place. It only has the real file's layout (header
``GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner``, ';' separator, UTF-8, midpoints in EPSG:3035,
IDs naming the lower-left corner) and coordinates in the range of the southern Ruhr area, so
that it fits 1 km blocks like a real extract would.

The patch is 40 x 30 cells (4 km x 3 km) with about 12,000 inhabitants around a few dense
centres. As in the real file, cells without inhabitants are left out and a handful of small
counts are shown suppressed ('–'). The output depends only on the fixed seed.

Run ``python sim/inputs/data/make_zensus_sample.py`` to regenerate the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("zensus_sample.csv")
X0, Y0 = 4_120_000, 3_140_000  # lower-left corner of the patch (EPSG:3035, m)
WIDTH, HEIGHT = 40, 30
TARGET = 12_000
N_SUPPRESSED = 8


def make_rows() -> list[str]:
    """The CSV lines, header first."""
    rng = np.random.default_rng(2022)
    col, row = np.meshgrid(np.arange(WIDTH), np.arange(HEIGHT))
    col, row = col.ravel(), row.ravel()
    # Dense centres (col, row, spread in cells, weight) plus a thin background.
    centres = [(9, 20, 4.0, 1.0), (27, 9, 5.0, 0.8), (31, 24, 3.0, 0.5), (14, 6, 3.5, 0.4)]
    density = np.full(col.size, 0.05)
    for c, r, spread, w in centres:
        density += w * np.exp(-((col - c) ** 2 + (row - r) ** 2) / (2 * spread**2))
    # Open land: a park and a strip of industry/railway without inhabitants.
    park = (col - 20) ** 2 + (row - 16) ** 2 < 3.5**2
    industry = (row >= 12) & (row <= 13) & (col >= 24)
    density[park | industry] = 0.0
    density *= np.exp(rng.normal(0.0, 0.3, size=col.size))
    counts = rng.poisson(density / density.sum() * TARGET)

    listed = np.flatnonzero(counts > 0)  # the real file omits unpopulated cells
    small = listed[counts[listed] <= 3]
    suppressed = set(rng.choice(small, size=min(N_SUPPRESSED, small.size), replace=False))
    lines = ["GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner"]
    for i in listed:  # row by row from the south, as sorted by the ID
        x, y = X0 + 100 * int(col[i]), Y0 + 100 * int(row[i])
        value = "–" if i in suppressed else str(int(counts[i]))
        lines.append(f"CRS3035RES100mN{y}E{x};{x + 50};{y + 50};{value}")
    return lines


def main() -> None:
    """Write the sample file and report what it contains."""
    lines = make_rows()
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    values = [line.rsplit(";", 1)[1] for line in lines[1:]]
    shown = sum(int(v) for v in values if v != "–")
    print(f"{OUT}: {len(values)} cells, {shown} inhabitants, {values.count('–')} suppressed")


if __name__ == "__main__":
    main()
