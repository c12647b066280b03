"""Fine-tune a video LVLM on DreamFrame data: Lightning + DDP or DeepSpeed ZeRO-2/3, resumable.

    python -m training.train --config configs/train/tiny_cpu.yaml                  # CPU, a few minutes
    python -m training.train --config configs/train/tiny_cpu.yaml --max_steps 20 --out /tmp/t
    srun python -m training.train --config configs/train/dreamframe_7b_llava_ov.yaml   # 8 GPUs a node

Running the same command again resumes from the newest readable checkpoint in <out> (also the SLURM
hpc checkpoint that a SIGUSR1 before the time limit writes before the job is requeued), at the same
global step and data order; a moved or copied <out> resumes too. At the end: <out>/export (a HF folder),
<out>/summary.json with the throughput and the held-out multiple-choice accuracy before and after
training. Checkpoints and the export are written atomically (training/checkpoints.py, dreamframe/atomic.py)
and summary.json last, so it exists only for a finished run (the pipeline's done marker). SIGTERM or
SIGINT saves a checkpoint of the current step and exits 128 + the signal, without export or summary.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dreamframe.atomic import WriteError, atomic_folder, atomic_write_text
from dreamframe.commands import Generate
from dreamframe.config import config_diff, parse_config, to_dict
from dreamframe.dataset import DatasetError
from models.base import VideoLVLMAdapter
from training.config import TrainConfig
from training.data_check import check_training_data

# Keys that may change between a run and its resumption (they do not change what is trained); `out` is
# where the folder is, so a moved or copied folder resumes.
RUNTIME_KEYS = ("out", "eval", "log", "resume", "export", "lora_export", "data.num_workers", "checkpoint_every_n_steps",
                "data.generate_config", "data.generate_num_movies", "data.generate_wait_s")


def global_rank() -> int:
    for key in ("RANK", "SLURM_PROCID", "LOCAL_RANK"):
        if os.environ.get(key):
            return int(os.environ[key])
    return 0


def ensure_data(cfg: TrainConfig) -> None:
    """Write the first source folder with `python -m data_gen.generate` when it is missing and the config
    says how: rank 0 writes it, the other ranks wait for its manifest at most data.generate_wait_s."""
    first = Path(cfg.data.sources[0].path)
    if (first / "manifest.json").exists() or first.suffix == ".json":
        return
    if not cfg.data.generate_config:
        raise DatasetError(f"{first}: dataset folder not found; write it with `python -m data_gen.generate "
                           f"--config configs/data_gen/tiny.yaml --out {first}` or set data.generate_config")
    if global_rank() != 0:
        wait_for_manifest(first, cfg.data.generate_wait_s)
        return
    cmd = Generate(config=cfg.data.generate_config, out=str(first), num_movies=cfg.data.generate_num_movies).cmd()
    print("+ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def wait_for_manifest(folder: Path, timeout_s: float, poll_s: float = 2.0) -> None:
    """Wait for rank 0 to finish writing `folder` (its manifest.json is written last); a rank whose rank 0
    died or is still writing after `timeout_s` stops with an error instead of waiting for ever."""
    manifest = folder / "manifest.json"
    deadline = time.monotonic() + timeout_s
    while not manifest.exists():
        left = deadline - time.monotonic()
        if left <= 0:
            raise DatasetError(f"rank {global_rank()}: waited {timeout_s:g} s for rank 0 to write {manifest} "
                               "(python -m data_gen.generate, data.generate_config); see rank 0's log for why it "
                               "is missing, or raise --data.generate_wait_s for a bigger dataset")
        time.sleep(min(poll_s, left))


def check_output_dir(cfg: TrainConfig) -> None:
    """Refuse to resume into an output folder written with a different config (it names the keys)."""
    import yaml

    out = Path(cfg.out)
    saved = out / "config.yaml"
    data = to_dict(cfg)
    if saved.exists():
        diff = config_diff(yaml.safe_load(saved.read_text(encoding="utf-8")) or {}, data, ignore=RUNTIME_KEYS)
        if diff and cfg.resume == "auto":
            raise DatasetError(f"{out} was trained with a different config ({'; '.join(diff)}); use a new --out, "
                               "or --resume never to start over there")
    if global_rank() == 0:
        atomic_write_text(saved, yaml.safe_dump(data, sort_keys=False))


def LossLog(path: Path):  # noqa: N802 - a callback factory keeps lightning out of module import
    """Appends {"step", "loss"} per optimizer step to <out>/loss.jsonl on rank 0 (flushed each line, so a
    killed run keeps its curve; a resumed run appends, and the last row of a step wins)."""
    import lightning as L

    class _LossLog(L.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            if trainer.is_global_zero and not trainer.fit_loop._should_accumulate():
                loss = float(outputs["loss"]) if isinstance(outputs, dict) else float(outputs)
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"step": trainer.global_step, "loss": loss}) + "\n")

    return _LossLog()


def build_trainer(cfg: TrainConfig, callbacks: list[Any]):
    import lightning as L
    from lightning.pytorch.callbacks import LearningRateMonitor, TQDMProgressBar
    from lightning.pytorch.loggers import CSVLogger, WandbLogger
    from lightning.pytorch.plugins.environments import SLURMEnvironment

    from training.checkpoints import AtomicCheckpoint
    from training.strategies import build_strategy

    out = Path(cfg.out)
    loggers: list[Any] = [CSVLogger(str(out), name="logs", version=0, flush_logs_every_n_steps=cfg.log.every_n_steps)]
    if cfg.log.wandb and cfg.log.wandb_mode != "disabled":
        os.environ.setdefault("WANDB_DIR", str(out))
        run_id_file = out / "wandb_run_id"
        run_id = run_id_file.read_text().strip() if run_id_file.exists() else None
        logger = WandbLogger(project=cfg.log.wandb_project, save_dir=str(out), offline=cfg.log.wandb_mode == "offline",
                             id=run_id, resume="allow", config=to_dict(cfg))
        if global_rank() == 0 and run_id is None:
            atomic_write_text(run_id_file, logger.experiment.id)
        loggers.append(logger)
    ckpt = AtomicCheckpoint(out / "checkpoints", cfg.checkpoint_every_n_steps)
    plugins = [SLURMEnvironment(auto_requeue=True, requeue_signal=signal.SIGUSR1)] \
        if SLURMEnvironment.detect() else []
    return L.Trainer(
        default_root_dir=str(out), accelerator=cfg.accelerator, devices=cfg.devices, num_nodes=cfg.num_nodes,
        strategy=build_strategy(cfg), precision=cfg.precision, max_epochs=cfg.max_epochs, max_steps=cfg.max_steps,
        accumulate_grad_batches=cfg.optim.accumulate,
        gradient_clip_val=(cfg.optim.grad_clip or None) if cfg.strategy.name != "deepspeed" else None,
        logger=loggers, callbacks=[ckpt, LearningRateMonitor("step"), TQDMProgressBar(refresh_rate=10), *callbacks], plugins=plugins,
        log_every_n_steps=cfg.log.every_n_steps, use_distributed_sampler=False, num_sanity_val_steps=0,
        enable_progress_bar=True, deterministic=False,
    )


def eval_dataset(cfg: TrainConfig) -> str | None:
    if cfg.eval.dataset:
        return cfg.eval.dataset
    return next((s.path for s in cfg.data.sources if Path(s.path).is_dir()), None)


def export_model(trainer: Any, adapter: VideoLVLMAdapter, cfg: TrainConfig) -> Path:
    """Write <out>/export on rank 0, atomically (a kill leaves no half folder); under ZeRO-3 every rank first
    gathers the full parameters."""
    from training.strategies import zero_stage

    path = Path(cfg.out) / "export"

    def save() -> None:
        with atomic_folder(path) as partial:
            adapter.save(partial, lora=cfg.lora_export) if cfg.model.lora else adapter.save(partial)

    if zero_stage(cfg) == 3:
        import deepspeed

        with deepspeed.zero.GatheredParameters(list(adapter.model.parameters()), modifier_rank=None):
            if trainer.is_global_zero:
                save()
    elif trainer.is_global_zero:
        save()
    trainer.strategy.barrier("export")
    return path


def check_export(adapter: VideoLVLMAdapter, module: Any, batch: dict[str, Any], path: Path, zero3: bool) -> float:
    """Max |logit difference| between the trained model and its export reloaded with load_adapter, on one batch
    (every rank runs the trained forward under ZeRO-3; rank 0 compares)."""
    import torch

    from models.registry import load_adapter

    model = adapter.model
    dev = next(model.parameters()).device
    dtype = next(p.dtype for p in model.parameters())
    moved = {k: (v.to(dev, dtype) if v.is_floating_point() else v.to(dev)) if torch.is_tensor(v) else v
             for k, v in batch.items()}
    was = model.training
    model.eval()
    with torch.no_grad():
        ref = model(**moved).logits.float().cpu()
    model.train(was)
    if zero3 and module.trainer and not module.trainer.is_global_zero:
        return 0.0
    reloaded = load_adapter(path)
    reloaded.model.eval()
    with torch.no_grad():
        got = reloaded.model(**{k: v.to(reloaded.model.dtype) if torch.is_tensor(v) and v.is_floating_point() else v
                                for k, v in batch.items()}).logits.float()
    return float((got - ref).abs().max())


class Interrupted(Exception):
    """Training stopped on SIGTERM / SIGINT after saving a checkpoint; nothing was exported."""

    def __init__(self, signum: int, checkpoint: str | None):
        self.signum, self.checkpoint = signum, checkpoint
        name = signal.Signals(signum).name
        super().__init__(f"stopped by {name}" + (f" after saving {checkpoint}" if checkpoint else "")
                         + "; not exported (no summary.json). Run the same command to resume.")


def fit_until_signal(trainer: Any, module: Any, datamodule: Any, ckpt: str | None) -> None:
    """trainer.fit, raising Interrupted when a SIGTERM or SIGINT stopped it (AtomicCheckpoint saved the step
    first): Lightning itself would end such a run with exit code 0, and a job scheduler or the pipeline
    would take it for a finished one."""
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt, weights_only=True)
    except SIGTERMException:
        pass
    saver = trainer.checkpoint_callback
    signum = getattr(saver, "stop_signal", None) or (signal.SIGTERM if trainer.received_sigterm else None)
    if signum:
        raise Interrupted(signum, getattr(saver, "_last_checkpoint_saved", None) or None)


def run(cfg: TrainConfig, callbacks: Sequence[Any] = ()) -> dict[str, Any]:
    """Train (or resume), export, check the export, and evaluate; returns the summary (rank 0).
    `callbacks`: extra Lightning callbacks (monitoring, or a simulated failure in tests)."""
    if cfg.log.wandb_mode == "offline":
        os.environ.setdefault("WANDB_MODE", "offline")
    ensure_data(cfg)  # bad input fails here, before the heavy imports
    from training.data import resolve_clip

    # the run's clip, resolved once and passed down (data layer, held-out check, export, summary); its rule is
    # saved with the config too, so a resume over a dataset that records another rule is refused
    clip = resolve_clip(cfg.model, [s.path for s in cfg.data.sources])
    cfg.model.frame_sampling = clip.rule
    print(check_training_data(cfg.data), flush=True)  # a damaged file fails in seconds, named
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    check_output_dir(cfg)

    import lightning as L

    from models.registry import build_adapter
    from training.checkpoints import newest_readable
    from training.data import make_datamodule
    from training.evaluate import heldout_check
    from training.module import make_module, make_throughput_callback
    from training.strategies import deepspeed_dict, offloads_optimizer, zero_stage
    L.seed_everything(cfg.seed, workers=True)
    adapter = build_adapter(cfg.model)
    adapter.trained_clip = clip
    shapes = {f"model.{k}": tuple(v.shape) for k, v in adapter.model.state_dict().items()}  # the module's keys
    ckpt = newest_readable(out, shapes) if cfg.resume == "auto" else None
    evals: dict[str, Any] = {}
    before_file = out / "eval_before.json"
    dataset = eval_dataset(cfg)
    if cfg.eval.enabled and cfg.eval.before and dataset and global_rank() == 0:
        if before_file.exists():
            evals["before"] = json.loads(before_file.read_text(encoding="utf-8"))
        elif ckpt is None:
            evals["before"] = heldout_check(adapter, dataset, clip, cfg.eval.split, cfg.eval.batch_size,
                                          cfg.eval.max_new_tokens, cfg.eval.max_samples)
            atomic_write_text(before_file, json.dumps(evals["before"], indent=2))
    datamodule = make_datamodule(cfg.data, cfg.model, adapter, clip)
    def total_steps(trainer: Any) -> int:
        if cfg.max_steps > 0:
            return cfg.max_steps
        per_rank = len(datamodule.sampler(trainer.world_size, trainer.global_rank))
        return -(-per_rank // cfg.optim.accumulate) * cfg.max_epochs

    cpu_adam = cfg.strategy.name == "deepspeed" and offloads_optimizer(deepspeed_dict(cfg))
    module = make_module(adapter, cfg.optim, total_steps, cpu_adam=cpu_adam)
    throughput = make_throughput_callback(cfg.log, adapter.model, adapter.tokenizer.pad_token_id)
    trainer = build_trainer(cfg, [throughput, LossLog(out / "loss.jsonl"), *callbacks])
    if ckpt:
        print(f"resuming from {ckpt}", flush=True)
    started = time.perf_counter()
    fit_until_signal(trainer, module, datamodule, ckpt)
    summary: dict[str, Any] = {"global_step": trainer.global_step, "seconds": round(time.perf_counter() - started, 2),
                               "resumed_from": ckpt, "throughput": throughput.summary,
                               "frame_sampling": clip.as_dict(),
                               "final_loss": float(trainer.callback_metrics.get("train/loss", float("nan")))}
    if cfg.export:
        path = export_model(trainer, adapter, cfg)
        batch = adapter.collate([datamodule.train_dataloader().dataset[i] for i in range(min(2, len(datamodule.items)))])
        diff = check_export(adapter, module, batch, path, zero_stage(cfg) == 3)
        summary["export"] = {"path": str(path), "max_abs_logit_diff_after_reload": diff}
        if cfg.eval.enabled and dataset and trainer.is_global_zero:
            from models.registry import load_adapter

            evals["after"] = heldout_check(load_adapter(path), dataset, clip, cfg.eval.split, cfg.eval.batch_size,
                                         cfg.eval.max_new_tokens, cfg.eval.max_samples)
    elif cfg.eval.enabled and dataset and trainer.is_global_zero and zero_stage(cfg) != 3:
        evals["after"] = heldout_check(adapter, dataset, clip, cfg.eval.split, cfg.eval.batch_size,
                                     cfg.eval.max_new_tokens, cfg.eval.max_samples)
    summary["eval"] = evals
    if trainer.is_global_zero:
        atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def describe(summary: dict[str, Any]) -> str:
    lines = [f"trained to step {summary['global_step']} in {summary['seconds']} s, final loss {summary['final_loss']:.4f}"]
    tp = summary.get("throughput") or {}
    if tp:
        lines.append(f"throughput: {tp['tokens_per_s']:.0f} tokens/s, {tp['samples_per_s']:.2f} samples/s, "
                     f"padding {100 * tp['padding_fraction']:.1f}%" + (f", MFU {100 * tp['mfu']:.1f}%" if "mfu" in tp else ""))
    if "export" in summary:
        lines.append(f"exported {summary['export']['path']} (reload max |logit diff| "
                     f"{summary['export']['max_abs_logit_diff_after_reload']:.2e})")
    for when, ev in summary.get("eval", {}).items():
        lines.append(f"held-out closed questions {when} ({ev['n']}): acc {ev['acc']:.1f}% {ev['acc_ci']}, "
                     f"free_acc {ev['free_acc']:.1f}% {ev['free_acc_ci']} (chance {ev['chance']:.1f}%, "
                     f"majority {ev['majority']:.1f}%)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(TrainConfig, argv, prog="python -m training.train", description=__doc__)
    try:
        summary = run(cfg)
    except Interrupted as err:
        print(f"interrupted: {err}", file=sys.stderr)
        return 128 + err.signum  # the shell's code for a death by that signal
    except WriteError as err:  # a full disk, named
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (DatasetError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if global_rank() == 0:
        print(describe(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
