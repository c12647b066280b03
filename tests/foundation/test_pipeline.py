import yaml

from dreamframe.pipeline import PipelineConfig, main, write_train_config
from tests.conftest import REPO


def test_train_config_points_at_the_runs_dataset(tmp_path):
    cfg = PipelineConfig(out=str(tmp_path / "run"), train_config=str(REPO / "configs/train/tiny_cpu.yaml"))
    data = yaml.safe_load(write_train_config(cfg).read_text())
    original = yaml.safe_load((REPO / "configs/train/tiny_cpu.yaml").read_text())
    assert data["data"]["sources"][0]["path"] == str(tmp_path / "run" / "data")
    assert data["data"]["sources"][0].get("qa_types") == original["data"]["sources"][0].get("qa_types")
    assert data["model"]["tiny"]["corpus"] == [str(tmp_path / "run" / "data")]
    assert data["data"]["generate_config"] is None and data["eval"]["enabled"] is False


def test_stages_run_then_skip_when_their_output_exists(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--config", str(REPO / "configs/pipeline/demo_cpu.yaml"), "--out", str(out),
            "--data_config", str(REPO / "configs/data_gen/tiny.yaml"), "--data_args", "[--num-movies, '3']",
            "--stages", "data,report"]
    assert main(args) == 0
    assert (out / "data" / "manifest.json").exists() and (out / "report" / "index.html").exists()
    assert (out / "logs" / "data.log").read_text().strip()
    capsys.readouterr()
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "[data] done already" in printed and "[report] done already" in printed


def test_unknown_stage_is_a_clear_error(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--stages", "data,trian"]) == 1
    assert "trian" in capsys.readouterr().err
