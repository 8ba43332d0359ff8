"""genlab: fit, sample and evaluate classic generative models from one command line.

Python API: `from genlab.models import KDE, GMM`; `genlab.load_run(folder)` returns
the fitted model and config of a finished run. torch is imported only when needed,
so `genlab --help` stays fast.
"""

__version__ = "0.1.0"


def load_run(path, device: str = "cpu", model_class: type | None = None):
    """(model, config) of a finished run folder or checkpoint file; see genlab.run.load.
    The model's class is one of genlab's own, named by the run's config, or `model_class`."""
    from genlab.run.load import load_run as _load_run

    return _load_run(path, device, model_class)


__all__ = ["load_run", "__version__"]
