"""Figures, all drawn through the model protocol in one style (genlab.plots.style)."""
