"""DeepSpeed ZeRO-2 / ZeRO-3 through Lightning on CPU (test-only overrides from conftest): train, fail
mid-run, resume at the same step with the same losses (skipping a newer checkpoint folder with a damaged
shard), export a HF folder that reloads identically."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from dreamframe.config import parse_config
from tests.training.conftest import ROOT, allow_deepspeed_on_cpu, tiny_overrides
from training.config import TrainConfig
from training.train import run

pytest.importorskip("deepspeed")


def losses(out) -> dict[int, float]:
    """Loss by optimizer step from <out>/loss.jsonl (a resumed run's rows win)."""
    rows = [json.loads(line) for line in (out / "loss.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows}


class Crash(Exception):
    pass


def crash_at(step: int):
    import lightning as L

    class CrashAt(L.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if trainer.global_step == step:
                raise Crash(f"simulated failure at step {step}")

    return CrashAt()


@pytest.mark.parametrize("stage", [2, 3])
def test_zero_train_crash_resume_export(stage, tiny_data, tmp_path, monkeypatch):
    allow_deepspeed_on_cpu(monkeypatch)

    def cfg(out):
        args = tiny_overrides(tiny_data, out, **{"strategy.name": "deepspeed", "max_steps": 5,
                                                 "strategy.deepspeed_config": ROOT / f"configs/deepspeed/zero{stage}.json",
                                                 "checkpoint_every_n_steps": 3})
        return parse_config(TrainConfig, args, prog="test", description="")

    ref = run(cfg(tmp_path / "ref"))
    assert ref["global_step"] == 5
    assert ref["export"]["max_abs_logit_diff_after_reload"] < 1e-5
    assert (tmp_path / "ref" / "export" / "model.safetensors").exists()

    with pytest.raises(Crash):
        run(cfg(tmp_path / "crash"), callbacks=[crash_at(4)])
    ckpt = tmp_path / "crash" / "checkpoints" / "step0000003.ckpt"
    assert ckpt.is_dir(), "DeepSpeed checkpoints are folders"
    assert (ckpt / "latest").is_file() and not list((tmp_path / "crash").rglob(".*.partial"))
    # a newer folder whose optimizer shard was cut short (what a kill mid-save used to leave): skipped
    damaged = ckpt.with_name("step0000004.ckpt")
    shutil.copytree(ckpt, damaged)
    shard = next(damaged.rglob("*optim_states.pt"))
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    os.utime(damaged, (time.time() + 60, time.time() + 60))  # written after step 3, as it would have been
    resumed = run(cfg(tmp_path / "crash"))
    assert resumed["resumed_from"] == str(ckpt)
    assert resumed["global_step"] == 5
    a, b = losses(tmp_path / "ref"), losses(tmp_path / "crash")
    assert sorted(a) == sorted(b) == [1, 2, 3, 4, 5]
    assert [b[s] for s in a] == pytest.approx([a[s] for s in a], rel=1e-4, abs=1e-5)
    assert resumed["export"]["max_abs_logit_diff_after_reload"] < 1e-5
