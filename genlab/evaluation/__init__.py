"""What a run measures and draws once a model is trained: points.py (1D/2D data), images.py
(MNIST-like images), references.py (the classifier and reference numbers, cached)."""
