"""Many runs: the runner (local processes or Dask), the resumable results store, the tidy
result tables and how they are written (``results``, ``files``), scenario comparisons with
paired differences (``comparison``) and parameter sweeps (``sweeps``).
"""
