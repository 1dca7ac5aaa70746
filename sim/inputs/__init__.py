"""Where a run starts from: the built-in city "Ruhrstadt" (``city``), Zensus grids
(``zensus``), official tables (``tables``), the synthetic population (``synthesis``) and
scenarios checked against their city (``levers``). The data files lie in ``data/``.
"""
