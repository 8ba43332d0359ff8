"""Models, one file each, all answering the protocol of `genlab.models.base.GenerativeModel`."""

from genlab.models.base import GenerativeModel
from genlab.models.flow import Flow
from genlab.models.gmm import GMM
from genlab.models.gan import GAN
from genlab.models.kde import KDE
from genlab.models.vae import VAE
from genlab.models.wgan import WGAN

__all__ = ["GenerativeModel", "KDE", "GMM", "GAN", "WGAN", "VAE", "Flow"]
