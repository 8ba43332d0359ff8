"""The lecture's figures that are not one model's run, one module each: `draw(run_dir,
device, seed, **params)` writes run_dir/figure.png and returns its numbers. Each has a
config conf/experiment/lecture/<name>.yaml, run as `genlab +experiment=lecture/<name>`."""
