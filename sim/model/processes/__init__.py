"""The steps of the year, one module each, run in the order of
:data:`sim.model.schedule.SCHEDULE`.

Each module has one entry function ``step(model, year, params, draws)``: it works on whole
columns of :class:`sim.state.population.Population`, hands on what later steps need through the
:class:`sim.model.year.YearState`, draws only from the random stream and key it is given, and
returns its flows (or None).
"""
