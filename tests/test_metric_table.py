"""The "how to evaluate GANs?" table (genlab.plots.metric_table) and its command
(genlab.lecture.how_to_evaluate), on fake metrics.json dicts: rows from the registry,
ranks and colours, which shortcut fools which number, and the figure written."""

import json

import pytest

from genlab.lecture import how_to_evaluate
from genlab.metrics.registry import Metric, add, unregister
from genlab.plots import metric_table
from genlab.plots.metric_table import BEST, MISSING, REAL, SHORTCUTS, UNRANKED, build_table, draw


def sample_set(precision, recall, kid, c2st, c_t, w1):
    return {"precision_recall": {"precision": precision, "recall": recall, "precision_standard_error": 0.01, "k": 3},
            "kid": {"mean": kid, "std": 0.01}, "c2st": {"accuracy": c2st, "standard_error": 0.01},
            "memorization": {"c_t": c_t, "nearer_share": 0.5}, "sliced_wasserstein": w1,
            "mmd": {"0.2": kid, "0.6": kid / 2}}


def fake_run(model):
    return {"model": "gan", "data": "8gaussians", "samples": {
        "model": model,
        REAL: sample_set(0.97, 0.98, -0.002, 0.48, -0.3, 0.028),
        "memorizer": sample_set(0.97, 0.976, -0.003, 0.499, -17.9, 0.021),  # ties precision, beats w1
        "mode_dropped": sample_set(0.975, 0.48, 1.6, 0.75, -0.7, 0.6),  # beats precision
        "blurred": sample_set(0.10, 0.99, 0.004, 0.80, 17.9, 0.06),  # beats recall; KID above 0
        "noise": sample_set(0.008, 1.0, 0.12, 0.88, 18.5, 0.23),  # beats recall
    }}


def table():
    gan = sample_set(0.7, 0.8, 0.13, 0.73, 8.1, 0.16)
    wgan = sample_set(0.98, 0.9, 0.005, 0.62, 5.9, 0.05)
    return build_table({"GAN": fake_run(gan), "WGAN": {"model": "wgan", "samples": {"model": wgan}}})


def row(t, label):
    return next(r for r in t.rows if r.label == label)


def test_the_rows_are_the_registrys_numbers_and_the_columns_the_references_then_the_models():
    t = table()
    assert t.columns == [REAL, *SHORTCUTS, "GAN", "WGAN"]
    labels = [r.label for r in t.rows]
    assert labels == ["mmd.0.2", "mmd.0.6", "sliced_wasserstein", "precision_recall.precision", "precision_recall.recall",
                      "kid.mean", "c2st.accuracy", "memorization.c_t"]  # summary paths; mmd (no summary): each bandwidth
    assert row(t, "precision_recall.precision").values == [0.97, 0.97, 0.975, 0.10, 0.008, 0.7, 0.98]


def test_the_best_cell_of_a_row_gets_the_best_colour_and_ties_share_the_rank():
    t = table()
    precision = row(t, "precision_recall.precision")
    assert precision.ranks == [3, 3, 2, 6, 7, 5, 1]
    assert t.colour(precision, t.columns.index("WGAN")) == BEST
    assert all(t.colour(precision, j) != BEST for j in range(len(t.columns)) if t.columns[j] != "WGAN")
    assert t.colour(precision, t.columns.index(REAL)) == t.colour(precision, t.columns.index("memorizer"))
    w1 = row(t, "sliced_wasserstein")  # lower is better
    assert w1.ranks[t.columns.index("memorizer")] == 1 and t.colour(w1, t.columns.index("memorizer")) == BEST
    kid = row(t, "kid.mean")  # floor at 0: real data's and the memorizer's negative KIDs tie, best
    assert kid.ranks[:2] == [1, 1] and kid.ranks[3] == 3  # blurred, 0.004 (WGAN 0.005 is 4th)
    c_t = row(t, "memorization.c_t")  # distance from 0 on either side: the memorizer's -17.9 is bad
    assert c_t.ranks[0] == 1 and c_t.ranks[1] == 5


def test_a_shortcut_fools_a_number_exactly_where_it_ties_or_beats_real_data():
    t = table()
    assert t.fooled() == {
        "memorizer": ["mmd.0.2", "mmd.0.6", "sliced_wasserstein", "precision_recall.precision", "kid.mean", "c2st.accuracy"],
        "mode_dropped": ["precision_recall.precision"],
        "blurred": ["precision_recall.recall"],
        "noise": ["precision_recall.recall"],
    }
    for r in t.rows:  # never a model or real data itself
        assert r.fools[0] is False and r.fools[-2:] == [False, False]


def test_a_newly_registered_metric_appears_without_editing_the_table():
    add(Metric("fake_score", compute=lambda s, t, d: 0.0, rows=lambda v: {}, higher_is_better=False, summary=("value",)))
    try:
        run = fake_run(sample_set(0.7, 0.8, 0.13, 0.73, 8.1, 0.16))
        for i, column in enumerate(["model", REAL, *SHORTCUTS]):
            run["samples"][column]["fake_score"] = {"value": [0.5, 0.3, 0.3, 0.9, 0.2, 0.9][i]}
        t = build_table({"GAN": run})
        fake = row(t, "fake_score.value")
        assert fake.rule == "lower" and fake.ranks == [2, 2, 5, 1, 5, 4]
        assert [c for c, f in zip(t.columns, fake.fools) if f] == ["memorizer", "blurred"]
    finally:
        unregister("fake_score")


def image_set(fd, precision, recall, entropy):
    """A reference or run's classifier numbers as an image run keeps them."""
    return {"frechet_distance": fd, "coverage": {"entropy": entropy, "classes_covered": 10},
            "precision_recall": {"precision": precision, "recall": recall}, "kid": {"mean": fd, "std": 1.0}}


def image_run(model, parzen, fd, precision, recall, ais, binarize="none"):
    return {"model": model, "images": {"binarize": binarize}, "parzen": {"mean": parzen},
            "classifier": image_set(fd, precision, recall, 2.2), "ais": {"mean": ais, "standard_error": 4.0},
            "references": {"real_train_images": {"parzen": {"mean": 244.0}, "frechet_distance": 2.8},
                           "real_held_out_images": image_set(3.8, 0.87, 0.87, 2.30),
                           "memorizer": image_set(3.2, 0.87, 0.89, 2.30),
                           "mode_dropped": image_set(337.0, 0.88, 0.57, 1.64),
                           "blurred": image_set(4.9, 0.90, 0.83, 2.30),
                           "uniform_noise": {"parzen": {"mean": -629.0}, **image_set(1470.0, 0.24, 0.0, 1.25)}}}


def test_an_image_runs_metrics_and_references_are_read():
    t = build_table({"GAN": image_run("gan", 82.5, 280.0, 0.64, 0.13, 206.0), "WGAN": image_run("wgan", 90.0, 200.0, 0.7, 0.2, 210.0)})
    assert t.columns == [REAL, *SHORTCUTS, "GAN", "WGAN"]
    assert row(t, "parzen.mean").values == [244.0, None, None, None, -629.0, 82.5, 90.0]
    # real data's classifier numbers are the held-out images' (fresh), not the training images'
    assert row(t, "classifier.frechet_distance").values == [3.8, 3.2, 337.0, 4.9, 1470.0, 280.0, 200.0]
    assert row(t, "classifier.coverage.entropy").values == [2.30, 2.30, 1.64, 2.30, 1.25, 2.2, 2.2]
    assert row(t, "precision_recall.recall").values == [0.87, 0.89, 0.57, 0.83, 0.0, 0.13, 0.2]
    assert row(t, "precision_recall.recall").fools == [False, True, False, False, False, False, False]
    assert row(t, "ais.mean").values == [None] * 5 + [206.0, 210.0] and row(t, "ais.mean").ranks[-2:] == [2, 1]
    labels = [r.label for r in t.rows]
    assert labels.index("ais.mean") == labels.index("parzen.mean") + 1  # the likelihoods side by side


def test_likelihoods_of_binarized_images_are_left_out_beside_grey_ones(tmp_path, monkeypatch):
    folders = []
    for name, run in (("vae_mnist", image_run("vae", -48.6, 310.0, 0.69, 0.6, -93.3, binarize="dynamic")),
                      ("gan_mnist", image_run("gan", 82.5, 280.0, 0.64, 0.13, 206.0))):
        if name == "vae_mnist":
            run["references"]["real_train_images"]["parzen"]["mean"] = -48.6  # its references are binarized too
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps(run))
        folders.append(tmp_path / name)
    drawn = {}
    monkeypatch.setattr(how_to_evaluate, "draw_table", lambda t, out, title, footer: drawn.update(table=t, footer=footer) or out)
    how_to_evaluate.from_runs(folders)
    t = drawn["table"]
    assert row(t, "parzen.mean").values == [244.0, None, None, None, -629.0, None, 82.5]  # the grey run's references
    assert row(t, "classifier.frechet_distance").values[-2:] == [310.0, 280.0]
    ais = row(t, "ais.mean")  # one comparable value left: shown, unranked, white
    assert ais.values == [None] * 6 + [206.0] and ais.ranks == [None] * 7 and not any(ais.fools)
    assert t.colour(ais, 6) == UNRANKED and t.colour(ais, 5) == MISSING
    assert drawn["footer"].startswith("VAE: likelihoods of dynamic-binarized images, not comparable")


def test_the_figure_is_written(tmp_path):
    path = draw(table(), tmp_path / "table.png", "How to evaluate GANs?")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_draws_finished_runs(tmp_path, capsys):
    folders = []
    for name, run in (("gan_run", fake_run(sample_set(0.7, 0.8, 0.13, 0.73, 8.1, 0.16))),
                      ("vae_run", {"model": "vae", "samples": {"model": sample_set(0.5, 0.5, 0.3, 0.9, 9.0, 0.3)}})):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps(run))
        folders.append(str(tmp_path / name))
    assert how_to_evaluate.main(folders) == 0
    assert (tmp_path / "how_to_evaluate.png").is_file()
    assert capsys.readouterr().out.strip() == str(tmp_path / "how_to_evaluate.png")
    assert how_to_evaluate.main([str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.startswith("how_to_evaluate: error: ")


@pytest.mark.parametrize("value, rule, ideal, expected", [(0.3, "higher", None, 0.3), (0.3, "lower", None, -0.3),
                                                          (-0.01, "floor", 0.0, 0.0), (0.6, "floor", 0.5, pytest.approx(-0.1)),
                                                          (-2.0, "target", 0.0, -2.0), (None, "higher", None, None)])
def test_scores(value, rule, ideal, expected):
    assert metric_table.score(value, rule, ideal) == expected
