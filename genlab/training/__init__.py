"""How models are trained: a one-shot fit for density estimators (fit.py)."""
