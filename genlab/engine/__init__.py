"""The training engine: the one loop (loop.py), its precision (precision.py) and checkpoints
(checkpoint.py). It knows models only through their protocol; models may import it."""
