"""Your own points from a file (data=file): every format reads the same numbers, bad files
are one line naming the file, every model runs on them, and the numbers agree with the
built-in data set the file was drawn from."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from genlab.data import Mixture2D, PointFile
from genlab.errors import ConfigError
from tests.helpers import run_cli, run_on

POINTS = np.random.default_rng(7).standard_normal((40, 3)).round(6)


def write(folder, name: str, points=POINTS, header: str | None = "a,b,c", delimiter: str = ","):
    path = folder / name
    if name.endswith(".npy"):
        np.save(path, points)
    elif name.endswith(".npz"):
        np.savez(path, other=np.zeros((3, 3)), points=points)
    else:
        lines = ([header.replace(",", delimiter)] if header else []) + [delimiter.join(repr(float(v)) for v in row) for row in points]
        path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("name, extra", [("with_header.csv", {}), ("plain.csv", {}), ("tabs.tsv", {}), ("blanks.txt", {}),
                                         ("array.npy", {}), ("arrays.npz", {"key": "points"})])
def test_every_format_reads_the_same_points_and_split(tmp_path, name, extra):
    header = "a,b,c" if name == "with_header.csv" else None
    delimiter = {"tsv": "\t", "txt": " "}.get(name.rsplit(".", 1)[1], ",")
    data = PointFile(write(tmp_path, name, header=header, delimiter=delimiter), **extra)
    order = torch.randperm(len(POINTS), generator=torch.Generator().manual_seed(0)).numpy()
    assert (len(data.train), len(data.test), data.dim) == (20, 20, 3)
    np.testing.assert_array_equal(data.test.numpy(), POINTS[order[:20]].astype(np.float32))
    np.testing.assert_array_equal(data.train.numpy(), POINTS[order[20:]].astype(np.float32))
    assert data.name == name.split(".")[0] and not data.can_draw and not data.has_density
    assert data.columns == (["a", "b", "c"] if header else ["x1", "x2", "x3"])


def test_the_header_is_detected_or_forced_and_columns_are_picked_by_name_or_index(tmp_path):
    named = write(tmp_path, "named.csv")
    assert PointFile(named, columns=["c", 0]).columns == ["c", "a"]
    np.testing.assert_array_equal(np.sort(torch.cat([PointFile(named, columns="b").train, PointFile(named, columns="b").test]).numpy()[:, 0]),
                                  np.sort(POINTS[:, 1].astype(np.float32)))
    plain = write(tmp_path, "plain.csv", header=None)
    assert len(PointFile(plain).train) + len(PointFile(plain).test) == 40
    forced = PointFile(plain, header=True)  # the first row of numbers taken as names
    assert len(forced.train) + len(forced.test) == 39 and forced.columns == [repr(float(v)) for v in POINTS[0]]
    with pytest.raises(ConfigError, match=r"named\.csv: line 1, column 1: 'a' is not a number"):
        PointFile(named, header=False)


def test_the_split_is_seeded_and_sized_by_test_fraction(tmp_path):
    path = write(tmp_path, "p.csv")
    assert torch.equal(PointFile(path, seed=3).test, PointFile(path, seed=3).test)
    assert not torch.equal(PointFile(path, seed=3).test, PointFile(path, seed=4).test)
    quarter = PointFile(path, test_fraction=0.25)
    assert (len(quarter.train), len(quarter.test)) == (30, 10)


BAD_FILES = [
    ("missing.csv", None, {}, r"no such file: .*missing\.csv"),
    ("empty.csv", "", {}, r"empty\.csv is empty"),
    ("comments.csv", "# only a comment\n\n", {}, r"comments\.csv is empty"),
    ("word.csv", "x,y\n1,2\n3,abc\n", {}, r"word\.csv: line 3, column 2 \('y'\): 'abc' is not a number"),
    ("gap.csv", "1,2\n3,\n", {}, r"gap\.csv: line 2, column 2: '' is not a number"),
    ("nan.csv", "1,2\n3,nan\n5,6\n", {}, r"nan\.csv: line 2, column 2 is nan"),
    ("inf.tsv", "1\t2\n-inf\t4\n", {}, r"inf\.tsv: line 2, column 1 is -inf"),
    ("ragged.csv", "1,2\n3,4\n5,6,7\n", {}, r"ragged\.csv: line 3 has 3 cells, line 1 has 2"),
    ("one.csv", "1,2\n", {}, r"one\.csv has 1 row of numbers; at least 2"),
    ("header_only.csv", "a,b\n", {}, r"has a header row and no rows"),
    ("few.csv", "1,2\n3,4\n5,6\n", {"test_fraction": 0.1}, r"test_fraction=0.1 leaves no test point of the 3 rows"),
    ("few.csv", "1,2\n3,4\n5,6\n", {"test_fraction": 0.9}, r"leaves no training point"),
    ("few.csv", "1,2\n3,4\n5,6\n", {"test_fraction": 1.5}, r"test_fraction must be a number between 0 and 1"),
    ("few.csv", "1,2\n3,4\n5,6\n", {"columns": ["z"]}, r"columns: 'z' is not a column of .*few\.csv: give names among x1, x2 or indices 0 to 1"),
    ("few.csv", "1,2\n3,4\n5,6\n", {"header": "maybe"}, r"header must be one of auto, true, false \(got 'maybe'\)"),
    ("points.json", "[]", {}, r"points\.json must end in one of \.csv, \.tsv, \.txt, \.npy, \.npz"),
    ("latin.csv", b"1,2\n\xe9,4\n", {}, r"latin\.csv is not a UTF-8 text file"),
]


@pytest.mark.parametrize("name, content, settings, message", BAD_FILES, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD_FILES)])
def test_a_bad_file_is_one_line_naming_it(tmp_path, name, content, settings, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    with pytest.raises(ConfigError, match=message) as error:
        PointFile(path, **settings)
    assert "\n" not in str(error.value)


def test_bad_arrays_are_one_line_naming_the_file_or_key(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.zeros((5, 2)), b=np.ones((4, 2)))
    with pytest.raises(ConfigError, match=r"key must name one of the arrays in .*two\.npz: a, b$"):
        PointFile(tmp_path / "two.npz")
    with pytest.raises(ConfigError, match=r"key must name one of the arrays in .*two\.npz: a, b \(got 'c'\)"):
        PointFile(tmp_path / "two.npz", key="c")
    bad = np.zeros((6, 2))
    bad[4, 1] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(ConfigError, match=r"nan\.npy: row 4 holds NaN or inf \(1 such rows\)"):
        PointFile(tmp_path / "nan.npy")
    np.save(tmp_path / "cube.npy", np.zeros((4, 2, 2)))
    with pytest.raises(ConfigError, match=r"cube\.npy holds an array of shape \(4, 2, 2\); points need \(n, d\)"):
        PointFile(tmp_path / "cube.npy")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(ConfigError, match=r"objects\.npy is not an array of numbers"):  # never unpickled
        PointFile(tmp_path / "objects.npy")


def test_a_bad_file_from_the_command_line_is_one_line_exit_2_and_leaves_nothing(tmp_path):
    (tmp_path / "mine.csv").write_text("x,y\n1,2\n3,oops\n")
    result = run_cli("model=kde", "data=file", "data.path=mine.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["genlab: error: data.path: mine.csv: line 3, column 2 ('y'): 'oops' is not a number"]
    assert not (tmp_path / "outputs" / "runs").exists() or not any((tmp_path / "outputs" / "runs").iterdir())
    result = run_cli("model=kde", "data=file", cwd=tmp_path)
    assert result.returncode == 2 and "data.path must name your file of points" in result.stderr


def test_a_run_on_a_file_is_named_after_it_and_says_what_it_leaves_out(tmp_path):
    write(tmp_path, "my_points.csv", points=POINTS[:, :2], header="u,v")
    result = run_cli("model=kde", "data=file", "data.path=my_points.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (folder,) = (tmp_path / "outputs" / "runs").iterdir()
    assert folder.name.endswith("_kde_my_points")
    log = (folder / "train.log").read_text()
    assert "my_points has no fresh draws and no known density: the real-data row scores one half of its 20 held-out points" in log
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["data"] == "my_points" and "true_test_log_likelihood" not in metrics and "kl_estimate" not in metrics
    assert (folder / "density.png").is_file() and (folder / "samples.png").is_file()



@pytest.mark.parametrize("model", ["kde", "gmm", "gan", "wgan", "vae", "flow"])
def test_every_model_runs_on_a_csv_of_five_columns(tmp_path, model):
    rng = np.random.default_rng(0)
    points = rng.standard_normal((200, 5))
    points[:, 1] += points[:, 0] ** 2
    np.savetxt(tmp_path / "five.csv", points, delimiter=",", header="a,b,c,d,e", comments="")
    metrics = run_on(tmp_path, model, f"model={model}", "data=file", f"data.path={tmp_path / 'five.csv'}",
                     "trainer.max_steps=30", "trainer.eval_every=15", "n_eval=300", "model.n_components=2" if model == "gmm" else "seed=0")
    folder = tmp_path / "outputs" / "runs" / model
    assert (folder / "pairs.png").is_file() and not (folder / "density.png").exists()
    real = metrics["samples"]["real_data"]
    assert set(real) == {"mmd", "sliced_wasserstein", "kde_test_log_likelihood",  # and the final evaluation's:
                         "precision_recall", "density_coverage", "kid", "c2st", "memorization"}
    model_row = next(v for k, v in metrics["samples"].items() if k not in ("n", "real_data"))
    assert set(model_row["mmd"]) == set(real["mmd"])  # the same bandwidths, so the rows compare
    if model in ("gan", "wgan"):
        assert "test_log_likelihood" not in metrics
    else:
        assert math.isfinite(metrics["test_log_likelihood"])


def test_the_real_data_row_scores_one_half_of_the_held_out_points_against_the_other(tmp_path):
    from genlab.metrics import real_data_quality
    from genlab.metrics.samples import mmd_bandwidths, mmd_rbf

    data = PointFile(write(tmp_path, "p.csv"))
    row = real_data_quality(data, seed=0)
    assert row == real_data_quality(data, seed=0) and row != real_data_quality(data, seed=1)
    order = torch.randperm(20, generator=torch.Generator().manual_seed(12345))
    half, other = data.test[order[:10]].double(), data.test[order[10:]].double()
    assert row["mmd"] == pytest.approx(mmd_rbf(half, other, mmd_bandwidths(data.test)), rel=1e-12)


def test_resume_continues_on_the_same_file_and_refuses_a_changed_one(tmp_path):
    path = write(tmp_path, "p.csv", points=np.random.default_rng(1).standard_normal((60, 2)), header=None)
    common = ["model=wgan", "data=file", f"data.path={path}", "trainer.eval_every=10", "n_eval=200"]
    first = run_on(tmp_path, "first", *common, "trainer.max_steps=10")
    second = run_on(tmp_path, "second", *common, "trainer.max_steps=20", "resume=true")
    assert (first["steps"], second["steps"]) == (10, 20) and second["resumed_from"].endswith("first/checkpoint.pt")
    path.write_text(path.read_text() + "0.5,0.5\n")
    with pytest.raises(ConfigError, match=r"differs in data.path: the file's content differs from the one the checkpoint was trained on"):
        run_on(tmp_path, "third", *common, "trainer.max_steps=30", "resume=true")


def test_a_file_drawn_from_mixture2d_scores_as_the_built_in_set(tmp_path):
    """4,000 points of mixture2d in a CSV, split half and half, against the built-in run
    (2,000 training and 2,000 test points): the GMM's test log-likelihoods agree within 3
    standard errors (each set has its own draws; measured: 1.7), and the file's run lies
    within 3 of the true density at its own test points."""
    points = Mixture2D(n_train=4000, seed=11).train.double().numpy()
    np.savetxt(tmp_path / "mixture.csv", points, delimiter=",", header="x,y", comments="")
    from_file = run_on(tmp_path, "file", "model=gmm", "data=file", f"data.path={tmp_path / 'mixture.csv'}")
    built_in = run_on(tmp_path, "built_in", "model=gmm", "data=mixture2d")
    assert from_file["n_train"] == from_file["n_test"] == 2000
    both = math.hypot(from_file["test_log_likelihood_standard_error"], built_in["test_log_likelihood_standard_error"])
    assert abs(from_file["test_log_likelihood"] - built_in["test_log_likelihood"]) < 3 * both
    truth = Mixture2D().log_prob(PointFile(tmp_path / "mixture.csv").test).mean().item()  # the true density at the file's test points
    assert abs(from_file["test_log_likelihood"] - truth) < 3 * from_file["test_log_likelihood_standard_error"]


def test_standardized_points_are_fit_in_standard_units_and_reported_in_the_file_s(tmp_path):
    """In 1D a KDE of bandwidth h on standardized points is the KDE of bandwidth h * scale
    on the file's: the same test log-likelihood (the Jacobian added) and the same samples."""
    x = 100 + 20 * np.random.default_rng(3).standard_normal((400, 1))
    np.savetxt(tmp_path / "prices.csv", x, header="price", comments="")
    data = PointFile(tmp_path / "prices.csv", standardize=True)
    scale = data.standardization.scale.item()
    assert scale == pytest.approx(data.train.double().std(correction=0).item(), rel=1e-6)
    standardized = run_on(tmp_path, "standardized", "model=kde", "data=file", f"data.path={tmp_path / 'prices.csv'}",
                          "data.standardize=true", "model.bandwidth=0.2")
    raw = run_on(tmp_path, "raw", "model=kde", "data=file", f"data.path={tmp_path / 'prices.csv'}", f"model.bandwidth={0.2 * scale}")
    assert standardized["test_log_likelihood"] == pytest.approx(raw["test_log_likelihood"], abs=1e-4)
    assert standardized["standardization"]["scale"] == [pytest.approx(scale)] and "standardization" not in raw
    assert standardized["samples"]["model"]["wasserstein_1d"] == pytest.approx(raw["samples"]["model"]["wasserstein_1d"], rel=1e-4)

    from genlab import load_run

    model, _ = load_run(tmp_path / "outputs" / "runs" / "standardized")
    assert model.log_prob(data.test).double().mean().item() == pytest.approx(standardized["test_log_likelihood"], abs=1e-5)
    samples = model.sample(4000, torch.Generator().manual_seed(0))
    assert abs(samples.mean().item() - 100) < 3 and abs(samples.std().item() - 20) < 2  # the file's units


def test_a_trained_model_on_standardized_columns_samples_in_the_file_s_units(tmp_path):
    rng = np.random.default_rng(4)
    x = np.column_stack([1000 + 300 * rng.standard_normal(600), 0.01 * rng.standard_normal(600)])
    np.savetxt(tmp_path / "big.csv", x, delimiter=",", header="price,rate", comments="")
    metrics = run_on(tmp_path, "wgan", "model=wgan", "data=file", f"data.path={tmp_path / 'big.csv'}", "data.standardize=true",
                     "trainer.max_steps=600", "trainer.eval_every=300", "n_eval=1000")
    from genlab import load_run

    model, _ = load_run(tmp_path / "outputs" / "runs" / "wgan")
    samples = model.sample(2000, torch.Generator().manual_seed(0)).double()
    for column, (mean, std) in enumerate([(1000, 300), (0, 0.01)]):
        assert abs(samples[:, column].mean().item() - mean) < 0.5 * std and 0.5 * std < samples[:, column].std().item() < 1.5 * std
    assert metrics["samples"]["real_data"]["sliced_wasserstein"] > 0 and (tmp_path / "outputs" / "runs" / "wgan" / "critic.png").is_file()


def test_a_constant_column_cannot_be_standardized(tmp_path):
    (tmp_path / "flat.csv").write_text("a,b\n1,5\n2,5\n3,5\n4,5\n")
    with pytest.raises(ConfigError, match=r"standardize: column 'b' of .*flat\.csv is the same in every training row"):
        PointFile(tmp_path / "flat.csv", standardize=True)
