"""Resumable checkpoints that a kill cannot corrupt: written beside their final name and renamed into
place (files and DeepSpeed folders alike), the newest two kept, and resume that falls back from an
unreadable checkpoint to the next newest with a message instead of a traceback.

Lightning's ModelCheckpoint writes straight to the final path and deletes the previous checkpoint
right after, so a kill mid-write leaves one truncated file and nothing to fall back to. The hook is
`_save_checkpoint`, the one place both strategies pass through (TorchCheckpointIO writes a file,
DeepSpeed every rank's shards into a folder): save to `.NAME.partial`, wait for every rank, rename.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from weakref import proxy

from dreamframe.atomic import partial_path, publish, remove_path

KEEP = 2
"""Regular checkpoints kept: the newest and the one before it (the fallback when the newest is damaged)."""
STEP_NAME = re.compile(r"step(\d+)\.ckpt")


def step_of_name(path: Path) -> int:
    m = STEP_NAME.fullmatch(path.name)
    return int(m.group(1)) if m else -1


def AtomicCheckpoint(dirpath: Path, every_n_train_steps: int, keep: int = KEEP):  # noqa: N802 - lazy lightning import
    """A ModelCheckpoint saving <dirpath>/step<N>.ckpt every N optimizer steps and at epoch ends, atomically,
    keeping the newest `keep`."""
    from lightning.pytorch.callbacks import ModelCheckpoint

    class _AtomicCheckpoint(ModelCheckpoint):
        stop_signal: int | None = None
        """SIGTERM or SIGINT received during fit: save after the step in progress, then stop."""

        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            super().on_train_start(trainer, pl_module)
            if threading.current_thread() is threading.main_thread():  # Lightning restores the handlers at teardown
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, self._on_signal)

        def _on_signal(self, signum: int, frame: Any) -> None:
            if self.stop_signal is not None and signum == signal.SIGINT:
                raise KeyboardInterrupt  # a second Ctrl+C: stop at once
            self.stop_signal = signum
            print(f"received {signal.Signals(signum).name}: saving a checkpoint after this step, then stopping "
                  "(run the same command to resume)", file=sys.stderr, flush=True)

        def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
            """Where the regular checkpoints are saved, so one made on a signal resumes like any other; Lightning
            then stops after this batch (its SIGTERM flag), and training.train exits non-zero."""
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
            if trainer.fit_loop._should_accumulate():
                return  # mid-accumulation: stop at the optimizer step
            stop = self.stop_signal is not None
            if trainer.world_size > 1:  # every rank saves (barriers inside), so every rank must agree
                stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
            if not stop:
                return
            self.stop_signal = self.stop_signal or signal.SIGTERM
            if self._last_global_step_saved != trainer.global_step:
                self._save_checkpoint(trainer, str(Path(self.dirpath) / f"step{trainer.global_step:07d}.ckpt"))
            trainer._signal_connector.received_sigterm = True

        def _save_checkpoint(self, trainer: Any, filepath: str) -> None:
            partial = partial_path(filepath)
            if trainer.is_global_zero:
                remove_path(partial)  # left by a killed run
            trainer.strategy.barrier("checkpoint: partial path clean")
            trainer.save_checkpoint(str(partial), self.save_weights_only)  # every rank; ends with a barrier
            if trainer.is_global_zero:
                publish(partial, filepath)
                prune(Path(filepath).parent, keep)
            trainer.strategy.barrier("checkpoint: published")
            self._last_global_step_saved = trainer.global_step
            self._last_checkpoint_saved = filepath
            if trainer.is_global_zero:
                for logger in trainer.loggers:
                    logger.after_save_checkpoint(proxy(self))

    # save_top_k=-1: Lightning deletes nothing (its own top-1 removal would leave no fallback), prune() keeps
    # `keep`; no version counter: a resumed run that saves the same step again replaces the file (it may be
    # the damaged one it fell back from) instead of writing step<N>-v1.ckpt beside it
    return _AtomicCheckpoint(dirpath=str(dirpath), filename="step{step:07d}", auto_insert_metric_name=False,
                             every_n_train_steps=every_n_train_steps, save_top_k=-1, save_on_train_epoch_end=True,
                             enable_version_counter=False)


def prune(folder: Path, keep: int) -> None:
    """Remove all but the `keep` highest-step checkpoints of a folder (by the step in their names, which
    survives copying a folder, unlike modification times)."""
    found = sorted((p for p in folder.glob("step*.ckpt") if step_of_name(p) >= 0), key=step_of_name)
    for old in found[:-keep]:
        remove_path(old)


def _model_states_file(folder: Path) -> Path:
    """The file of a DeepSpeed checkpoint folder holding Lightning's state (global_step, loops, callbacks)."""
    latest = folder / "latest"
    if not latest.is_file():
        raise ValueError("no `latest` file (DeepSpeed writes it last)")
    tag = folder / latest.read_text(encoding="utf-8").strip()
    found = sorted(tag.glob("*mp_rank_00_model_states.pt"))
    if not found:
        raise ValueError(f"no model states file in {tag.name}/")
    return found[0]


class Mismatch(ValueError):
    """A readable checkpoint whose tensors do not fit the model being trained."""


Shapes = Mapping[str, tuple[int, ...]]
"""The model's tensors by state_dict key (the LightningModule's: `model.<name>`) and their shapes."""


def read_step(path: Path, expected: Shapes | None = None) -> int:
    """The global step a checkpoint (file or DeepSpeed folder) resumes at; raises when it cannot be read,
    or (given `expected`) when its tensors do not fit the model being trained (another config's checkpoint).

    Every file must be a whole torch zip (a truncated one lost the directory at its end); the one holding
    Lightning's state is then loaded memory-mapped (no tensor data read) and weights_only, so a 100 GB
    checkpoint is checked in a moment. DeepSpeed's optimizer shards pickle DeepSpeed classes, so they are
    only checked as zips, never unpickled here."""
    import torch

    state_file = path if path.is_file() else _model_states_file(path)
    for file in [path] if path.is_file() else sorted(path.rglob("*.pt")):
        check_zip(file)
    state = torch.load(state_file, map_location="cpu", mmap=True, weights_only=True)
    if not isinstance(state, dict) or "global_step" not in state:
        raise ValueError(f"{state_file.name} has no global_step")
    if expected is not None:
        check_shapes(state.get("state_dict", state.get("module")) or {}, expected, whole=path.is_file())
    return int(state["global_step"])


def check_shapes(saved: Mapping[str, Any], expected: Shapes, whole: bool) -> None:
    """Raise Mismatch naming the first tensor whose shape differs from the model's, or (`whole`: a Lightning
    file, which holds every tensor) the tensors one side lacks. Keys may carry a wrapper's prefix
    (DeepSpeed's `_forward_module.`); a ZeRO-3 placeholder (no elements) is not compared."""
    found: set[str] = set()
    for key, tensor in saved.items():
        parts = key.split(".")
        name = next((".".join(parts[i:]) for i in range(len(parts)) if ".".join(parts[i:]) in expected), None)
        if name is None:
            if whole:
                raise Mismatch(f"it holds {key!r}, which this config's model has not (a checkpoint of another config?)")
            continue
        found.add(name)
        shape = tuple(getattr(tensor, "shape", ()))
        if getattr(tensor, "numel", lambda: 1)() and shape != tuple(expected[name]):
            raise Mismatch(f"{name} has shape {list(shape)}, this config's model {list(expected[name])} "
                             "(a checkpoint of another config?)")
    missing = sorted(set(expected) - found)
    if whole and missing:
        raise Mismatch(f"it lacks {len(missing)} of the model's tensors, e.g. {missing[0]!r} "
                         "(a checkpoint of another config?)")


def check_zip(file: Path) -> None:
    """Raise unless `file` is a complete zip archive (torch.save's format): its central directory is
    there and every member lies inside the file."""
    import zipfile

    size = file.stat().st_size
    if size == 0:
        raise ValueError(f"{file.name} is empty")
    try:
        with zipfile.ZipFile(file) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as err:
        raise ValueError(f"{file.name}: {err} (cut short?)") from None
    if not infos or any(i.header_offset + i.compress_size > size for i in infos):
        raise ValueError(f"{file.name}: a member lies past the end of the file (cut short?)")


def candidates(out: Path) -> list[Path]:
    """<out>/checkpoints/step*.ckpt and the SLURM hpc checkpoints <out>/hpc_ckpt_*.ckpt (files or folders),
    never the hidden partial ones."""
    return [p for p in [*(out / "checkpoints").glob("step*.ckpt"), *out.glob("hpc_ckpt_*.ckpt")]
            if not p.is_symlink() and not p.name.startswith(".")]


def newest_readable(out: Path, expected: Shapes | None = None) -> str | None:
    """The readable checkpoint with the highest global step (the newest file wins a tie); each unreadable
    one, or one whose tensors do not fit `expected` (the model's shapes), is named on stderr with why, and
    skipped."""
    readable: list[tuple[int, float, Path]] = []
    for path in candidates(out):
        try:
            readable.append((read_step(path, expected), path.stat().st_mtime, path))
        except Mismatch as err:
            print(f"warning: checkpoint {path} does not fit this config's model ({str(err)[:300]}); skipping it",
                  file=sys.stderr, flush=True)
        except Exception as err:  # noqa: BLE001 - any failure to read means: do not resume from it
            why = str(err).split(". ")[0][:200]
            print(f"warning: checkpoint {path} is unreadable ({type(err).__name__}: {why}); skipping it",
                  file=sys.stderr, flush=True)
    if not readable:
        if candidates(out):
            print(f"warning: no readable checkpoint in {out}; starting from step 0", file=sys.stderr, flush=True)
        return None
    return str(max(readable, key=lambda t: (t[0], t[1]))[2])
