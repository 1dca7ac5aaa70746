"""``python -m sim.cli``: the ``quartier`` command."""

from sim.cli import main

main()
