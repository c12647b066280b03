"""Checkpoints a kill cannot spoil (issue 12): the newest readable one is resumed, a damaged one is named and
skipped, the newest two are kept, a moved or copied training folder resumes, and bad counts fail at parse
time naming the option. The end-to-end test trains (in-process, ~20 s); the others need no training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dreamframe.config import parse_config
from tests.training.conftest import ROOT, tiny_overrides
from training.checkpoints import newest_readable, prune
from training.config import TrainConfig


def fake_checkpoint(path: Path, step: int) -> Path:
    """What Lightning's TorchCheckpointIO writes, as far as resume looks at it: a torch zip with global_step."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"global_step": step, "state_dict": {"w": torch.full((256,), float(step))}}, path)
    return path


def test_truncated_newest_checkpoint_falls_back_with_a_message(tmp_path, capsys):
    ckpts = tmp_path / "checkpoints"
    older = fake_checkpoint(ckpts / "step0000004.ckpt", 4)
    newest = fake_checkpoint(ckpts / "step0000006.ckpt", 6)
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])  # as a kill mid-write leaves it
    assert newest_readable(tmp_path) == str(older)
    err = capsys.readouterr().err
    assert f"checkpoint {newest} is unreadable" in err and "skipping it" in err
    assert len(err.splitlines()) == 1  # one line, not a traceback


@pytest.mark.parametrize("damage", ["empty", "truncated", "partial name"])
def test_only_readable_complete_checkpoints_are_resumed(tmp_path, damage):
    fake_checkpoint(tmp_path / "checkpoints" / "step0000002.ckpt", 2)
    bad = fake_checkpoint(tmp_path / "checkpoints" / "step0000004.ckpt", 4)
    if damage == "empty":
        bad.write_bytes(b"")
    elif damage == "truncated":
        bad.write_bytes(bad.read_bytes()[:100])
    else:  # a checkpoint still being written is a hidden .partial sibling and never a candidate
        bad.rename(bad.with_name(".step0000004.ckpt.partial"))
    assert newest_readable(tmp_path) == str(tmp_path / "checkpoints" / "step0000002.ckpt")


def test_newest_is_chosen_by_step_not_by_file_time(tmp_path):
    """A copied folder (cp -r) gets new modification times in copy order; the step decides."""
    new = fake_checkpoint(tmp_path / "checkpoints" / "step0000010.ckpt", 10)
    hpc = fake_checkpoint(tmp_path / "hpc_ckpt_1.ckpt", 12)  # SLURM's requeue checkpoint, newer by step
    fake_checkpoint(tmp_path / "checkpoints" / "step0000005.ckpt", 5)  # written last, oldest by step
    assert newest_readable(tmp_path) == str(hpc)
    hpc.unlink()
    assert newest_readable(tmp_path) == str(new)


def test_no_readable_checkpoint_starts_over_and_says_so(tmp_path, capsys):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "step0000003.ckpt").write_bytes(b"\0" * 10)
    assert newest_readable(tmp_path) is None
    assert "no readable checkpoint" in capsys.readouterr().err
    assert newest_readable(tmp_path / "nothing") is None


def test_deepspeed_folder_without_latest_is_skipped(tmp_path, capsys):
    fake_checkpoint(tmp_path / "checkpoints" / "step0000002.ckpt", 2)
    folder = tmp_path / "checkpoints" / "step0000004.ckpt"
    fake_checkpoint(folder / "checkpoint" / "mp_rank_00_model_states.pt", 4)  # `latest` is written last
    assert newest_readable(tmp_path).endswith("step0000002.ckpt")
    (folder / "latest").write_text("checkpoint")
    assert newest_readable(tmp_path) == str(folder)
    assert "no `latest` file" in capsys.readouterr().err


def test_prune_keeps_the_two_highest_steps(tmp_path):
    for step in (2, 4, 6, 8):
        fake_checkpoint(tmp_path / f"step{step:07d}.ckpt", step)
    (tmp_path / "step0000010.ckpt").mkdir()  # a DeepSpeed folder counts the same
    prune(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step0000008.ckpt", "step0000010.ckpt"]


@pytest.mark.parametrize("option, value", [("data.batch_size", 0), ("optim.accumulate", 0), ("max_steps", -2),
                                           ("checkpoint_every_n_steps", 0), ("optim.lr", 0), ("eval.batch_size", 0),
                                           ("optim.warmup_ratio", 1.5), ("log.every_n_steps", 0)])
def test_bad_counts_fail_at_parse_time_naming_the_option(option, value, capsys):
    with pytest.raises(SystemExit) as exc:
        parse_config(TrainConfig, ["--config", str(ROOT / "configs/train/tiny_cpu.yaml"), f"--{option}={value}"],
                     prog="python -m training.train", description="")
    assert exc.value.code == 2
    assert option in capsys.readouterr().err


def weights(export: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(export / "model.safetensors"))


def test_moved_folder_with_truncated_newest_checkpoint_resumes_to_the_same_weights(tiny_data, tmp_path, capsys):
    """Train 5 steps (checkpoints at 2 and 4), damage the step-4 checkpoint as a kill would, move the folder:
    the same command resumes from step 2 and ends with the weights of the uninterrupted run."""
    from training.train import run

    def cfg(out: Path) -> TrainConfig:
        return parse_config(TrainConfig, tiny_overrides(tiny_data, out, max_steps=5, checkpoint_every_n_steps=2),
                            prog="test", description="")

    first = tmp_path / "first"
    assert run(cfg(first))["global_step"] == 5
    reference = weights(first / "export")
    ckpts = sorted(p.name for p in (first / "checkpoints").iterdir())
    assert ckpts == ["step0000002.ckpt", "step0000004.ckpt"], "the newest two are kept, nothing half-written"
    newest = first / "checkpoints" / "step0000004.ckpt"
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 3])
    shutil.rmtree(first / "export")
    (first / "summary.json").unlink()
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    shutil.move(first, moved)
    capsys.readouterr()

    again = run(cfg(moved))
    assert again["resumed_from"] == str(moved / "checkpoints" / "step0000002.ckpt")
    assert "step0000004.ckpt is unreadable" in capsys.readouterr().err
    assert again["global_step"] == 5
    got = weights(moved / "export")
    assert got.keys() == reference.keys()
    assert max(float((got[k] - reference[k]).abs().max()) for k in got) < 1e-6
    assert json.loads((moved / "summary.json").read_text())["global_step"] == 5
    assert not list(moved.rglob(".*.partial")), "no partial file or folder is left behind"
