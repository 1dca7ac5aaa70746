"""The state of a simulated city and the vocabulary every layer shares.

``city`` (cells, quartiers, dwellings and their tenure), ``population`` (households and
persons as numpy columns), ``income`` (equivalence scale, income groups, income draws) and
``outcomes`` (the catalogue of outcome metrics and the causes of leaving). These modules hold
data and definitions, no process: inputs fill them, the model changes them year by year, and
reports read their names.
"""
