"""A checkpoint of another config (other tensor shapes, other tensors) beside good ones (issue 27, problem 4):
it is named in one warning line and skipped, and resume takes the newest checkpoint that fits; Lightning
would stop every resume with a 67-line size-mismatch traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from training.checkpoints import newest_readable

MODEL = {"model.embed.weight": (600, 32), "model.head.weight": (600, 32), "model.head.bias": (600,)}


def checkpoint(path: Path, step: int, shapes: dict[str, tuple[int, ...]], prefix: str = "") -> Path:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"global_step": step, "state_dict": {prefix + k: torch.zeros(s) for k, s in shapes.items()}}, path)
    return path


@pytest.mark.parametrize("other, why", [
    ({**MODEL, "model.embed.weight": (700, 32)}, r"model.embed.weight has shape \[700, 32\], this config's model "
                                                 r"\[600, 32\]"),
    ({**MODEL, "model.lora_A.weight": (4, 32)}, r"it holds 'model.lora_A.weight', which this config's model has not"),
    ({k: v for k, v in MODEL.items() if k != "model.head.bias"}, r"it lacks 1 of the model's tensors, e.g. "
                                                                 r"'model.head.bias'"),
])
def test_a_checkpoint_of_another_config_is_skipped_with_one_line(tmp_path, capsys, other, why):
    good = checkpoint(tmp_path / "checkpoints" / "step0000004.ckpt", 4, MODEL)
    bad = checkpoint(tmp_path / "checkpoints" / "step0000008.ckpt", 8, other)
    assert newest_readable(tmp_path, MODEL) == str(good)
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"warning: checkpoint {bad} does not fit this config's model (")
    assert err.rstrip().endswith("; skipping it")
    assert re.search(why, err), err


def test_wrapper_prefixes_and_zero3_placeholders_are_not_mismatches(tmp_path):
    """DeepSpeed's model states name tensors `_forward_module.model.*`; ZeRO-3 keeps empty placeholders."""
    import torch

    from training.checkpoints import check_shapes

    check_shapes({"_forward_module." + k: torch.zeros(s) for k, s in MODEL.items()}, MODEL, whole=True)
    check_shapes({"model.embed.weight": torch.zeros(0)}, MODEL, whole=False)
    ok = checkpoint(tmp_path / "checkpoints" / "step0000002.ckpt", 2, MODEL, prefix="_forward_module.")
    assert newest_readable(tmp_path, MODEL) == str(ok)
