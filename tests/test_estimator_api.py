"""scikit-learn's estimator conventions on every genlab model (genlab.models.estimator):
numpy or torch in and the same kind out, get_params / set_params that sklearn's clone
accepts, score_samples / score, sample(n, random_state=...), and clone, GridSearchCV and
Pipeline themselves. genlab never imports scikit-learn; only these tests do."""

import inspect
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

import genlab.models
from genlab.errors import ConfigError
from genlab.models import GAN, GMM, KDE, WGAN
from genlab.models.base import GenerativeModel
from genlab.models.registry import model_classes
from genlab.models.trained import TrainedModel

pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402
from sklearn.neighbors import KernelDensity  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

CLASSES = model_classes()
SMALL_NETWORKS = dict(hidden=16, depth=1, batch_size=32)
SMALL = {"KDE": dict(bandwidth=0.3), "GMM": dict(n_components=2, seed=0), "GAN": SMALL_NETWORKS, "WGAN": SMALL_NETWORKS,
         "VAE": dict(SMALL_NETWORKS, iwae_k=20), "Flow": dict(n_couplings=2, hidden=16, depth=1, batch_size=32)}
X = np.random.default_rng(0).normal(size=(300, 2)) * [1.0, 0.5] + [0.5, -1.0]  # float64
QUERY = np.random.default_rng(1).normal(size=(40, 2))


def fit(name, x):
    """A small model of class `name`, fit on x from torch's seed 0 (5 steps for the trained ones)."""
    torch.manual_seed(0)
    cls = CLASSES[name]
    steps = dict(max_steps=5) if issubclass(cls, TrainedModel) else {}
    return cls(**SMALL.get(name, {})).fit(x, **steps)


@pytest.fixture(scope="module")
def on_numpy():
    return {name: fit(name, X) for name in CLASSES}


def scores(model, x):
    """log_prob of x, from torch's seed 1 (the VAE's IWAE bound draws)."""
    torch.manual_seed(1)
    return model.log_prob(x)


# -- numpy in, numpy out ------------------------------------------------------------------------


@pytest.mark.parametrize("name", CLASSES)
def test_numpy_in_gives_numpy_out_with_the_values_of_torch_in(name, on_numpy):
    model = on_numpy[name]
    samples = model.sample(7, random_state=0)
    assert isinstance(samples, np.ndarray) and samples.shape == (7, 2)
    if model.has_log_prob:
        from_numpy, from_torch = scores(model, QUERY), scores(model, torch.from_numpy(QUERY))
        assert isinstance(from_numpy, np.ndarray) and isinstance(from_torch, torch.Tensor)
        np.testing.assert_array_equal(from_numpy, from_torch.numpy())
        torch.manual_seed(1)
        np.testing.assert_array_equal(model.score_samples(QUERY), from_numpy)
        torch.manual_seed(1)
        assert model.score(QUERY) == pytest.approx(float(from_torch.double().mean()), rel=1e-12)


@pytest.mark.parametrize("name", CLASSES)
def test_a_numpy_fit_equals_a_torch_fit_and_float64_trains_the_networks(name):
    numpy_model, float64_model, float32_model = fit(name, X), fit(name, torch.from_numpy(X)), fit(name, torch.from_numpy(X).float())
    from_numpy, from_float64 = numpy_model.sample(50, random_state=2), float64_model.sample(50, random_state=2)
    assert isinstance(from_numpy, np.ndarray) and isinstance(from_float64, torch.Tensor)
    np.testing.assert_array_equal(from_numpy, from_float64.numpy())
    if numpy_model.has_log_prob:  # and to float32's rounding the model fit on float32 points
        np.testing.assert_allclose(scores(numpy_model, QUERY), scores(float32_model, torch.from_numpy(QUERY).float()).numpy(), rtol=2e-4, atol=2e-4)
    if isinstance(numpy_model, TrainedModel):  # float64 points are cast to the float32 weights
        assert from_numpy.dtype == np.float32
        np.testing.assert_array_equal(from_numpy, float32_model.sample(50, random_state=2).numpy())


def test_the_trained_models_score_float64_tensors_and_say_so_with_float32(on_numpy):
    vae, flow, wgan = on_numpy["VAE"], on_numpy["Flow"], on_numpy["WGAN"]
    q64 = torch.from_numpy(QUERY)
    assert torch.equal(flow.log_prob(q64), flow.log_prob(q64.float()))
    generator = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    assert torch.equal(vae.elbo(q64, generator()), vae.elbo(q64.float(), generator()))
    assert torch.equal(wgan.critic_value(q64), wgan.critic_value(q64.float()))
    np.testing.assert_array_equal(wgan.critic_value(QUERY), wgan.critic_value(q64.float()).numpy())
    assert vae.pushforward(QUERY, 3, generator()).shape == (3, len(QUERY), 2)


def test_fit_takes_scikit_learns_y_and_ignores_it():
    labels = np.arange(len(X))
    np.testing.assert_array_equal(KDE().fit(X, labels).score_samples(QUERY), KDE().fit(X).score_samples(QUERY))


# -- sample(n, random_state) ----------------------------------------------------------------------


@pytest.mark.parametrize("name", CLASSES)
def test_a_random_state_repeats_its_samples(name, on_numpy):
    model = on_numpy[name]
    first, again, other = (model.sample(20, random_state=seed) for seed in (3, 3, 4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    # The same draws as a torch generator seeded alike; a numpy generator gives a seed and advances.
    np.testing.assert_array_equal(first, model.sample(20, torch.Generator().manual_seed(3)))
    for numpy_rng in (np.random.default_rng, np.random.RandomState):
        rng = numpy_rng(5)
        assert not np.array_equal(model.sample(20, random_state=rng), model.sample(20, random_state=rng))
        np.testing.assert_array_equal(model.sample(20, random_state=numpy_rng(5)), model.sample(20, random_state=numpy_rng(5)))


def test_random_state_is_refused_in_one_line_naming_it(on_numpy):
    kde = on_numpy["KDE"]
    with pytest.raises(ConfigError, match=r"^random_state must be None, an integer seed or a numpy Generator or RandomState \(got 1.5\)$"):
        kde.sample(5, random_state=1.5)
    with pytest.raises(ConfigError, match="either a generator or a random_state, not both"):
        kde.sample(5, torch.Generator(), random_state=1)
    assert on_numpy["GAN"].sample(4, random_state=0, raw=True).shape == (4, 2)  # the model's own options still pass


# -- score_samples and score ----------------------------------------------------------------------


@pytest.mark.parametrize("cls", [GAN, WGAN])
@pytest.mark.parametrize("method", ["score_samples", "score"])
def test_a_model_without_a_density_refuses_to_score_in_one_line(cls, method, on_numpy):
    with pytest.raises(ConfigError) as error:
        getattr(on_numpy[cls.__name__], method)(QUERY)
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{cls.__name__} has no density for {method}")
    assert "genlab.metrics.kde_of_samples" in message


def test_score_is_the_mean_where_kernel_density_s_is_the_sum():
    ours, theirs = KDE(bandwidth=0.4).fit(X), KernelDensity(bandwidth=0.4).fit(X)
    np.testing.assert_allclose(ours.score_samples(QUERY), theirs.score_samples(QUERY), rtol=1e-10)
    assert ours.score(QUERY) * len(QUERY) == pytest.approx(theirs.score(QUERY), rel=1e-10)


# -- get_params, set_params, repr ----------------------------------------------------------------


def constructor_arguments(cls) -> dict:
    """Every argument the constructor takes and its default, following **kwargs on to the
    base that takes them (as tests/test_defaults.py reads them)."""
    found = {}
    for klass in cls.__mro__:
        parameters = inspect.signature(klass.__init__).parameters
        found = {**{k: p.default for k, p in parameters.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and k != "self"}, **found}
        if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
            break
    return found


def converted(value):
    """A value equal to `value` that the validators convert (floats to float(), tuples to
    tuple()), so a model that stored the converted value would fail clone's identity check."""
    if isinstance(value, float):
        return np.float64(value)
    if isinstance(value, tuple):
        return list(value)
    return value


@pytest.mark.parametrize("name", CLASSES)
def test_get_params_holds_every_constructor_argument_and_clone_accepts_it(name):
    cls = CLASSES[name]
    defaults = constructor_arguments(cls)
    assert cls().get_params() == defaults and set(defaults)
    given = {key: converted(value) for key, value in defaults.items()}
    model = cls(**given)
    params = model.get_params()
    assert params.keys() == given.keys() and all(params[key] is value for key, value in given.items())
    copy = clone(model)  # raises unless each argument comes back as the very object passed
    assert type(copy) is cls and copy is not model and copy.get_params() == params


@pytest.mark.parametrize("name", CLASSES)
def test_set_params_rebuilds_the_model_unfitted(name):
    model = fit(name, X)
    given = {key: converted(value) for key, value in model.get_params().items()}
    assert model.set_params(**given) is model
    assert all(model.get_params()[key] is value for key, value in given.items()) and not model.is_fitted
    assert clone(model).get_params() == model.get_params()


def test_set_params_refuses_an_unknown_key_or_a_bad_value_and_leaves_the_model_as_it_was(on_numpy):
    kde = clone(on_numpy["KDE"]).fit(X)
    with pytest.raises(ConfigError, match=r"^'bandwith' is not a parameter of KDE: its parameters are kernel, bandwidth, cv_grid, cv_folds$"):
        kde.set_params(bandwith=0.2)
    with pytest.raises(ConfigError, match="bandwidth must be"):
        kde.set_params(bandwidth=-1)
    assert kde.is_fitted and kde.get_params()["bandwidth"] == 0.3
    assert kde.set_params() is kde and kde.is_fitted  # nothing to change: nothing rebuilt


def test_the_repr_shows_the_arguments_that_differ_from_the_defaults():
    assert repr(KDE(kernel="epanechnikov", bandwidth=0.2)) == "KDE(bandwidth=0.2, kernel='epanechnikov')"
    assert repr(KDE()) == "KDE()" and repr(GMM(n_components=3)) == "GMM()"
    assert repr(WGAN(hidden=64, lipschitz="clip")) == "WGAN(hidden=64, lipschitz='clip')"  # hidden goes on to AdversarialModel
    model = GAN(betas=[0.5, 0.9], latent_dim=4)
    rebuilt = eval(repr(model), vars(genlab.models))
    assert type(rebuilt) is GAN and rebuilt.get_params() == model.get_params()


class Shifted(GenerativeModel):
    """A user's model, written against the protocol only: N(mean of the data + shift, scale^2 I)."""

    fitted_state = ("mean_",)

    def __init__(self, shift: float = 0.5, scale: float = 2.0):
        self.shift, self.scale, self.mean_ = shift, float(scale), None

    def fit(self, x):
        self.mean_ = self._as_points(x).mean(0) + self.shift
        return self

    def sample(self, n, generator=None):
        return self.mean_ + self.scale * torch.randn(n, len(self.mean_), generator=generator, dtype=self.mean_.dtype)

    def log_prob(self, x):
        x = self._as_points(x, dim=len(self.mean_))
        z = (x - self.mean_) / self.scale
        return (-0.5 * z.square() - math.log(self.scale) - 0.5 * math.log(2 * math.pi)).sum(1)


def test_a_user_s_own_model_gets_the_conventions_without_writing_them():
    model = Shifted(scale=3).fit(X)
    assert model.get_params() == {"shift": 0.5, "scale": 3} and repr(model) == "Shifted(scale=3)"
    assert type(clone(model).get_params()["scale"]) is int  # as passed, though the model keeps float(scale)
    expected = -0.5 * ((QUERY - X.mean(0) - 0.5) / 3) ** 2 - math.log(3) - 0.5 * math.log(2 * math.pi)
    np.testing.assert_allclose(model.score_samples(QUERY), expected.sum(1), rtol=1e-12)
    assert isinstance(model.sample(3, random_state=0), np.ndarray)
    grid = [0.3, 1.0, 10.0]
    by_hand = [np.mean([Shifted(scale=s).fit(X[train]).score(X[test]) for train, test in KFold(5).split(X)]) for s in grid]
    assert GridSearchCV(Shifted(), {"scale": grid}, cv=KFold(5)).fit(X).best_params_ == {"scale": grid[int(np.argmax(by_hand))]}


# -- checkpoints --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CLASSES)
def test_the_kind_fit_was_given_survives_a_weights_only_checkpoint(name, on_numpy, tmp_path):
    model = on_numpy[name]
    torch.save(model.state_dict(), tmp_path / "state.pt")
    state = torch.load(tmp_path / "state.pt", weights_only=True)
    assert state["array_type"] == "numpy"
    loaded = CLASSES[name](**model.get_params()).load_state_dict(state)
    samples = loaded.sample(10, random_state=1)
    assert isinstance(samples, np.ndarray)
    np.testing.assert_allclose(samples, model.sample(10, random_state=1), rtol=1e-6)  # a loaded GMM samples float32
    del state["array_type"]  # a checkpoint from before: tensors, as then
    old = CLASSES[name](**model.get_params()).load_state_dict(state).sample(10, random_state=1)
    assert isinstance(old, torch.Tensor) and np.array_equal(old.numpy(), samples)


# -- scikit-learn's own tools -------------------------------------------------------------------


def test_grid_search_picks_the_bandwidth_with_the_best_mean_held_out_log_likelihood():
    x = np.random.default_rng(2).normal(size=(250, 2))
    grid = [0.05, 0.1, 0.2, 0.5, 1.0]
    search = GridSearchCV(KDE(), {"bandwidth": grid}, cv=KFold(5)).fit(x)
    by_hand = [np.mean([KDE(bandwidth=h).fit(x[train]).score(x[test]) for train, test in KFold(5).split(x)]) for h in grid]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], by_hand, rtol=1e-12)
    assert search.best_params_ == {"bandwidth": grid[int(np.argmax(by_hand))]}
    assert search.best_estimator_.is_fitted and repr(search.best_estimator_) == f"KDE(bandwidth={search.best_params_['bandwidth']})"
    # scikit-learn's KernelDensity ranks the same; its score is the sum over the 50 points of a fold
    # (to 1e-4: its tree loses digits at h = 0.1, where a far held-out point's kernel sum underflows).
    theirs = GridSearchCV(KernelDensity(), {"bandwidth": grid}, cv=KFold(5)).fit(x)
    assert theirs.best_params_ == search.best_params_
    np.testing.assert_allclose(theirs.cv_results_["mean_test_score"] / 50, by_hand, rtol=1e-4)


def test_a_pipeline_scores_as_the_model_fit_on_the_scaled_points():
    pipeline = Pipeline([("scale", StandardScaler()), ("kde", KDE())]).fit(X)
    scaler = StandardScaler().fit(X)
    direct = KDE().fit(scaler.transform(X))
    np.testing.assert_array_equal(pipeline.score_samples(QUERY), direct.score_samples(scaler.transform(QUERY)))
    assert pipeline.score(QUERY) == direct.score(scaler.transform(QUERY))
    pipeline.set_params(kde__bandwidth=0.25).fit(X)
    assert pipeline.named_steps["kde"].bandwidth_ == 0.25


def test_gmm_predict_and_predict_proba_agree_and_its_criteria_follow_their_formulas():
    gmm = GMM(n_components=3, seed=0).fit(X)
    proba = gmm.predict_proba(QUERY)
    assert isinstance(proba, np.ndarray) and proba.shape == (len(QUERY), 3)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-12)
    np.testing.assert_array_equal(gmm.predict(QUERY), proba.argmax(1))
    # Bayes' rule on the fitted components, through torch's own distributions.
    components = torch.distributions.MultivariateNormal(gmm.means_, covariance_matrix=gmm.full_covariances())
    joint = components.log_prob(torch.from_numpy(QUERY)[:, None, :]) + gmm.weights_.log()
    np.testing.assert_allclose(proba, torch.softmax(joint, 1).numpy(), rtol=1e-9, atol=1e-12)
    assert torch.equal(gmm.predict(torch.from_numpy(QUERY)), torch.from_numpy(proba.argmax(1)))
    n, (k, d) = len(X), gmm.means_.shape
    free = k * d * (d + 1) // 2 + k * d + (k - 1)
    total = float(gmm.score_samples(X).sum())
    assert gmm.bic(X) == pytest.approx(-2 * total + free * math.log(n), rel=1e-12)
    assert gmm.aic(X) == pytest.approx(-2 * total + 2 * free, rel=1e-12)


def test_genlab_itself_never_imports_scikit_learn():
    code = ("import sys, numpy as np, genlab, genlab.models, genlab.metrics, genlab.plots.density, genlab.plots.samples\n"
            "kde = genlab.models.KDE().fit(np.random.default_rng(0).normal(size=(50, 2)))\n"
            "kde.score(np.ones((3, 2))), kde.sample(3, random_state=0), kde.get_params(), repr(kde), kde.set_params(bandwidth=1.0)\n"
            "assert 'sklearn' not in sys.modules, sorted(m for m in sys.modules if m.startswith('sklearn'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
