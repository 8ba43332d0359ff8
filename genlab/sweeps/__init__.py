"""Sweeps that end in a table and a picture.

A Hydra sweep (`genlab -m ...`) writes one folder per job; the `SweepSummary` callback
(conf/config.yaml, `hydra.callbacks`) records each job's status and rebuilds
`summary.csv` and `grid.png` in the sweep folder after every job; `genlab-report`
rebuilds them from the folder at any time.
"""
