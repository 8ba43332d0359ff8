"""The reference rows of point runs (genlab.metrics.reference_rows) and where the final-only
metrics go: metrics.json's final numbers and table, not every training evaluation."""

from __future__ import annotations

import json

import torch

from genlab.data import Moons, Points
from genlab.data.mixtures import RingOfGaussians
from genlab.metrics import reference_rows, sample_quality
from genlab.metrics.reference_rows import reference_samples
from helpers import run_on

FINAL_ONLY = {"precision_recall", "density_coverage", "kid", "c2st", "memorization"}


def test_each_row_is_what_it_says():
    data = RingOfGaussians(n_train=600, n_test=400)
    rows, test = reference_samples(data, 500, seed=0)
    assert list(rows) == ["memorizer", "mode_dropped", "blurred", "noise"] and torch.equal(test, data.test.double())
    assert all(r.shape == (500, 2) and r.dtype == torch.float64 for name, r in rows.items() if name != "memorizer")
    train = data.train.double()
    assert len(rows["memorizer"]) == 500 and (torch.cdist(rows["memorizer"], train).min(1).values == 0).all()
    nearest_mode = torch.cdist(rows["mode_dropped"], data.modes.double()).argmin(1)
    assert set(nearest_mode.tolist()) == {0, 1, 2, 3}  # the first half of the 8 modes, each of them
    low, high = train.min(0).values, train.max(0).values
    assert ((rows["noise"] >= low) & (rows["noise"] <= high)).all() and rows["noise"].std(0).min() > 0.5
    # blurred: fresh points plus 10% of each coordinate's std: far off the modes (std 0.014) but near them
    off = torch.cdist(rows["blurred"], data.modes.double()).min(1).values
    assert 0.05 < off.median() < 0.3
    again, _ = reference_samples(data, 500, seed=0)
    assert all(torch.equal(rows[k], again[k]) for k in rows)  # seeded
    assert not torch.equal(reference_samples(data, 500, seed=1)[0]["noise"], rows["noise"])


def test_sets_without_modes_or_fresh_draws():
    rows, _ = reference_samples(Moons(n_train=300, n_test=300), 200)
    assert list(rows) == ["memorizer", "blurred", "noise"] and len(rows["memorizer"]) == 200
    mine = Points(torch.randn(100, 2, generator=torch.Generator().manual_seed(0)), torch.randn(30, 2, generator=torch.Generator().manual_seed(1)))
    rows, test = reference_samples(mine, 2500)
    assert len(test) == 15 and all(len(r) == 15 for r in rows.values())  # scored against one held-out half, with as many points
    quality = reference_rows(mine, 2500)
    assert list(quality) == ["real_data", "memorizer", "blurred", "noise"] and FINAL_ONLY <= set(quality["memorizer"])


def test_the_rows_are_computed_once_and_handed_out_as_copies():
    data = Moons(n_train=300, n_test=300)
    first = reference_rows(data, 300)
    first["noise"]["mmd"] = "changed"
    second = reference_rows(Moons(n_train=300, n_test=300), 300)  # another object, the same points
    assert second["noise"]["mmd"] != "changed" and second["memorizer"]["memorization"]["nearer_share"] == 1.0
    assert reference_rows(Moons(n_train=300, n_test=300, seed=1), 300) != second


def test_sample_quality_leaves_the_final_only_metrics_out_unless_asked():
    data = Moons(n_train=300, n_test=300)
    samples = data.sample(300, torch.Generator().manual_seed(5))
    every = sample_quality(samples, data)
    assert not FINAL_ONLY & set(every)
    final = sample_quality(samples, data, final=True, known=every)
    assert FINAL_ONLY <= set(final) and {k: final[k] for k in every} == every and list(final)[: len(every)] == list(every)


def test_a_short_gan_run_writes_the_final_metrics_and_the_rows(tmp_path, caplog):
    with caplog.at_level("INFO", logger="genlab"):
        metrics = run_on(tmp_path, "gan", "model=gan", "data=8gaussians", "trainer.max_steps=20", "trainer.eval_every=10",
                         "model.hidden=16", "model.depth=2", "model.batch_size=64", "trainer.animation=false", "n_eval=300", "data.n_train=400", "data.n_test=300")
    samples = json.loads((tmp_path / "outputs" / "runs" / "gan" / "metrics.json").read_text())["samples"]
    assert samples == json.loads(json.dumps(metrics["samples"]))
    assert set(samples) == {"n", "model", "raw_generator", "real_data", "memorizer", "mode_dropped", "blurred", "noise"}
    for row in ("model", "raw_generator", "real_data", "memorizer", "mode_dropped", "blurred", "noise"):
        assert FINAL_ONLY <= set(samples[row]), row
    assert samples["memorizer"]["memorization"]["c_t"] < -3 and samples["memorizer"]["memorization"]["nearer_share"] == 1.0
    assert samples["mode_dropped"]["precision_recall"]["recall"] < 0.65 < samples["mode_dropped"]["precision_recall"]["precision"]
    evaluations = [json.loads(line) for line in (tmp_path / "outputs" / "runs" / "gan" / "metrics.jsonl").read_text().splitlines()]
    assert [e["step"] for e in evaluations] == [10, 20] and not any(FINAL_ONLY & set(e["model"]) for e in evaluations)
    assert {k: samples["model"][k] for k in evaluations[-1]["model"]} == evaluations[-1]["model"]  # the same samples
    header = next(line for line in caplog.text.splitlines() if "real data" in line)
    assert header.split()[-6:] == ["real", "data", "memorizer", "mode-dropped", "blurred", "noise"]
    assert "precision (k=3 balls)" in caplog.text and "data-copying C_T" in caplog.text
