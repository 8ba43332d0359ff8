"""Data sets: toy distributions with exact densities where known, and MNIST."""

from genlab.data.base import Dataset
from genlab.data.mixtures import GaussianMixture, GridOfGaussians, Mixture1D, Mixture2D, RingOfGaussians, Uniform1D
from genlab.data.mnist import MNIST
from genlab.data.points import Points
from genlab.data.file import PointFile
from genlab.data.image_file import ImageFile
from genlab.data.shapes import Checkerboard, Circles, Moons, Pinwheel, Spiral, SwissRoll

__all__ = [
    "Dataset", "GaussianMixture", "Mixture1D", "Mixture2D", "RingOfGaussians", "GridOfGaussians",
    "Uniform1D", "MNIST", "Points", "PointFile", "ImageFile", "Moons", "Circles", "SwissRoll", "Checkerboard", "Pinwheel", "Spiral",
]
