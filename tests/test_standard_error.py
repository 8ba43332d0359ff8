"""One standard error everywhere: std / sqrt(n) with ddof 0, in every metric that reports one."""

import numpy as np
import pytest
import torch

from genlab.data import Moons
from genlab.metrics import likelihood_metrics
from genlab.metrics.standard_error import standard_error
from genlab.models import KDE


def test_every_reported_standard_error_is_numpys_std_over_root_n():
    data = Moons(n_train=300, n_test=200, seed=0)
    model = KDE(bandwidth=0.2).fit(data.train)
    test = model.log_prob(data.test).double().numpy()
    metrics = likelihood_metrics(model, data, n_fresh=500)
    assert metrics["test_log_likelihood_standard_error"] == pytest.approx(test.std() / np.sqrt(len(test)), rel=1e-12)
    # ddof 1 would differ by sqrt(n / (n - 1)): 0.25% at n = 200, far above the tolerance above.
    assert metrics["test_log_likelihood_standard_error"] != pytest.approx(test.std(ddof=1) / np.sqrt(len(test)), rel=1e-4)
    assert standard_error(torch.tensor([1.0])) != standard_error(torch.tensor([1.0]))  # NaN: undefined for one value
    assert np.isnan(standard_error(torch.tensor([1.0, float("-inf")])))
