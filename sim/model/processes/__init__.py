"""The model's yearly processes, one module each, applied in the order of ``sim.model``.

Each process works on whole columns of :class:`sim.state.population.Population` and draws only from
the random stream it is given.
"""
