"""The lecture gallery: every experiment config composes, and `make figures` runs a figure
into outputs/lecture/ with an index that states its command."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from genlab.lecture import gallery
from helpers import compose_config

LECTURE = Path(__file__).resolve().parents[1] / "conf" / "experiment" / "lecture"


def test_every_gallery_figure_has_an_experiment_config_and_every_config_a_figure():
    assert sorted(f.name for f in gallery.FIGURES) == sorted(p.stem for p in LECTURE.glob("*.yaml"))
    assert len(gallery.FIGURES) == 15


@pytest.mark.parametrize("figure", gallery.FIGURES, ids=lambda f: f.name)
def test_each_lecture_experiment_composes(figure):
    cfg = compose_config(f"+experiment=lecture/{figure.name}")
    if figure.output == "figure.png":
        assert cfg.figure._target_ == f"genlab.lecture.{figure.name}.draw"
    else:
        assert cfg.figure is None and cfg.model._target_.startswith("genlab.models.")
    assert figure.sweep == (figure.output == "grid.png")


@pytest.mark.parametrize("name,key,values", [("capacity", "model.hidden", "8,32,128,512"), ("vae_pushforward", "model.kl_weight", "1.0,0.01"), ("mode_collapse", "model", "gan,wgan")])
def test_the_sweep_figures_sweep_what_the_lecture_asks(name, key, values):
    with initialize_config_module("genlab.conf", version_base="1.3"):
        cfg = compose("config", overrides=[f"+experiment=lecture/{name}"], return_hydra_config=True)
    assert cfg.hydra.sweeper.params == {key: values}


def test_a_figure_is_made_copied_and_indexed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert gallery.main(["bivariate_gmm"]) == 0
    index = (tmp_path / "outputs" / "lecture" / "index.md").read_text()
    assert "## 5. Bivariate sample, GMM E-M" in index and "    genlab +experiment=lecture/bivariate_gmm" in index
    assert "![Bivariate sample, GMM E-M](05_bivariate_gmm.png)" in index and "- test_log_likelihood = " in index
    assert (tmp_path / "outputs" / "lecture" / "05_bivariate_gmm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_unknown_figure_is_refused_in_one_line(capsys):
    assert gallery.main(["nope"]) == 2
    assert capsys.readouterr().err.strip() == "gallery: error: unknown figure 'nope' (allowed: " + ", ".join(f.name for f in gallery.FIGURES) + ")"


def test_figures_run_side_by_side_one_thread_each_and_the_index_keeps_lecture_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GENLAB_GALLERY_JOBS", "2")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    seen = []
    original = gallery.make

    def recorded(figure, number, threads=None):
        seen.append((figure.name, threads))
        return original(figure, number, threads)

    monkeypatch.setattr(gallery, "make", recorded)
    assert gallery.main(["bivariate_gmm", "univariate_gmm"]) == 0
    assert sorted(seen) == [("bivariate_gmm", 1), ("univariate_gmm", 1)]
    index = (tmp_path / "outputs" / "lecture" / "index.md").read_text()
    assert 0 < index.index("## 3. Univariate sample") < index.index("## 5. Bivariate sample")
    assert (tmp_path / "outputs" / "lecture" / "runs" / "univariate_gmm" / "metrics.json").is_file()


def test_a_bad_number_of_gallery_jobs_is_refused_in_one_line(monkeypatch, capsys):
    monkeypatch.setenv("GENLAB_GALLERY_JOBS", "two")
    assert gallery.main(["bivariate_gmm"]) == 2
    assert capsys.readouterr().err.strip() == "gallery: error: GENLAB_GALLERY_JOBS must be a whole number >= 1 (got 'two')"
