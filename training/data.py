"""Training data: dataset folders and LLaVA JSON files, mixed by ratio, batched by length, resumable mid-epoch.

Each source becomes a list of light `Item`s (ids, media paths, chat) at setup; frames are read in the
DataLoader workers. The epoch order is a pure function of (seed, epoch), so a checkpoint only has to
store (epoch, batches done) to continue with the very same batches after a kill or a SLURM requeue.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dreamframe.clip import Clip, ClipSpec, qa_clip
from dreamframe.dataset import DatasetError, DatasetFolder
from dreamframe.frames import SamplingRule, sampling_rule
from dreamframe.prompts import question_text
from models.base import ModelConfig, Sample, VideoLVLMAdapter
from training.config import DataConfig, SourceConfig

MEDIA_TAGS = ("<video>\n", "<image>\n", "<video>", "<image>")


@dataclass
class Item:
    """One sample before its frames are read."""

    id: str
    messages: list[dict[str, str]]
    clip: Clip | None = None
    """The frames the model is fed (`dreamframe.clip.Clip`: picked as the run's ClipSpec says); None: text only."""
    order: tuple[int, ...] | None = None
    """The clip's frames are fed in this order (positions in the sampled clip; `frames: order_shuffled`); None: as sampled."""

    @property
    def frames(self) -> list[str]:
        """The frame image files the clip takes (empty for a video file / frame folder, or text only)."""
        return self.clip.frame_paths() if self.clip and self.clip.files else []


def resolve_clip(model: ModelConfig, datasets: Sequence[str | Path] = ()) -> ClipSpec:
    """The clip every sample of a run is picked with, resolved once per run (training.train.run) and passed
    down: model.num_frames frames, by model.frame_sampling when set, else by the rule the training datasets
    record (they must agree: one rule per run; `DatasetFolder.frame_rule`), else segment_centre."""
    if model.frame_sampling is not None:
        return ClipSpec(model.num_frames, sampling_rule(model.frame_sampling, "model.frame_sampling"))
    recorded = {str(p): r for p in datasets if Path(p).is_dir() and (r := DatasetFolder(p).frame_rule()) is not None}
    if len(set(recorded.values())) > 1:
        raise DatasetError(f"the training datasets record different frame sampling rules {recorded}; "
                           "set model.frame_sampling to pick one")
    return ClipSpec(model.num_frames, next(iter(recorded.values()), SamplingRule.segment_centre))


def folder_items(path: str, split: str, clip: ClipSpec, qa_types: Sequence[str] | None = None,
                 frames: str = "matched", seed: int = 0, turns: str = "question") -> list[Item]:
    """QA rows of a dataset folder as items, each a clip of `clip.num_frames` frames from the row's span
    (`frames="shuffled"`: another movie's row's clip; `"order_shuffled"`: the row's own clip in a random
    order; see `SourceConfig.frames`); `turns="clip"`: the rows of one clip as one multi-turn item."""
    folder = DatasetFolder(path)
    folder.manifest()  # raises DatasetError naming the folder when it is not a finished dataset
    items, movies = [], []
    for row in folder.load_qa(split):
        if qa_types and row["qa_type"] not in qa_types:
            continue
        try:
            row_clip = qa_clip(folder.root, row, clip)  # a reversed twin's frames come reversed
        except ValueError as err:
            raise DatasetError(str(err)) from None
        items.append(Item(id=row["id"], clip=row_clip, messages=[
            {"role": "user", "content": question_text(row["question"], row["options"])},
            {"role": "assistant", "content": row["answer"]}]))
        movies.append(row["movie_id"])
    if turns == "clip":
        items, movies = merge_turns(items, movies, seed)
    elif turns != "question":
        raise ValueError(f"data.sources[].turns must be 'question' or 'clip', got {turns!r}")
    if frames == "shuffled":
        donors = other_movie_donors(movies, seed)
        clips = [it.clip for it in items]
        for it, d in zip(items, donors):
            it.clip = clips[d]
    elif frames == "order_shuffled":
        for it in items:
            it.order = shuffled_order(clip.num_frames, seed, it.id)
    elif frames != "matched":
        raise ValueError(f"data.sources[].frames must be 'matched', 'shuffled' or 'order_shuffled', got {frames!r}")
    return items


def item_rng(seed: int, purpose: int, item_id: str) -> np.random.Generator:
    """A generator fixed by (seed, purpose, item id): the same in every epoch, rank and resumed run."""
    return np.random.default_rng([seed, purpose, int.from_bytes(hashlib.sha256(item_id.encode()).digest()[:8], "little")])


def merge_turns(items: list[Item], movies: list[str], seed: int) -> tuple[list[Item], list[str]]:
    """One multi-turn item per distinct clip (the same frames in the same order: `Clip` equality, so a reversed
    twin stays apart), its questions in a random order fixed by (seed, first id)."""
    groups: dict[Clip | None, list[int]] = {}
    for i, it in enumerate(items):
        groups.setdefault(it.clip, []).append(i)
    merged, merged_movies = [], []
    for members in groups.values():
        first = items[members[0]]
        rng = item_rng(seed, 1618, first.id)
        messages = [m for k in rng.permutation(len(members)) for m in items[members[k]].messages]
        merged.append(Item(id=first.id, clip=first.clip, messages=messages))
        merged_movies.append(movies[members[0]])
    return merged, merged_movies


def shuffled_order(num_frames: int, seed: int, item_id: str) -> tuple[int, ...]:
    """A random order of a clip's `num_frames` positions, never the original one (one frame: unchanged),
    fixed by (seed, item id): the same in every epoch, rank and resumed run, so a resumed run sees the very
    same samples (the data order stays a pure function of (seed, epoch))."""
    if num_frames < 2:
        return tuple(range(num_frames))
    rng = item_rng(seed, 3141, item_id)
    while True:
        order = tuple(int(i) for i in rng.permutation(num_frames))
        if order != tuple(range(num_frames)):
            return order


def other_movie_donors(movies: Sequence[str], seed: int) -> list[int]:
    """For each item, the index of an item from another movie: a random permutation, with each item that
    landed on its own movie swapped with a random partner until none does (needs >= 2 movies)."""
    if len(set(movies)) < 2:
        raise DatasetError("frames: shuffled needs samples from at least two movies")
    rng = np.random.default_rng([seed, 2718])
    donor = rng.permutation(len(movies))
    for _ in range(100):
        bad = [i for i in range(len(movies)) if movies[donor[i]] == movies[i]]
        if not bad:
            return donor.tolist()
        for i in bad:
            j = int(rng.integers(len(movies)))
            donor[i], donor[j] = donor[j], donor[i]
    raise DatasetError("frames: shuffled could not pair every sample with another movie's frames")


def _strip_tags(text: str) -> str:
    for tag in MEDIA_TAGS:
        text = text.replace(tag, "")
    return text.strip()


def json_items(path: str, media_root: str | None, clip: ClipSpec) -> list[Item]:
    """LLaVA conversation JSON: {"id", "conversations": [{"from": "human"|"gpt", "value"}], and
    "frames" (list of images) or "video" (mp4 or frame folder, optional "frame_span") or "image", or none}."""
    file = Path(path)
    try:
        records = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise DatasetError(f"{path}: cannot read LLaVA JSON ({err})") from err
    root = Path(media_root) if media_root else file.parent
    roles = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}
    items = []
    for k, rec in enumerate(records):
        rid = str(rec.get("id", f"{file.name}#{k}"))
        try:
            messages = [{"role": roles[t["from"]], "content": _strip_tags(t["value"])} for t in rec["conversations"]]
        except KeyError as err:
            raise DatasetError(f"{path}: record {rid}: bad or missing conversations field ({err})") from err
        media = None
        if rec.get("frames") or rec.get("image"):  # an image is a one-frame clip, repeated to num_frames
            files = tuple(rec["frames"]) if rec.get("frames") else (rec["image"],)
            media = Clip(str(root), clip.num_frames, clip.rule, files=files)
        elif rec.get("video"):
            span = tuple(rec["frame_span"]) if rec.get("frame_span") else None
            media = Clip(str(root / rec["video"]), clip.num_frames, clip.rule, span=span)
        items.append(Item(id=rid, messages=messages, clip=media))
    return items


def source_items(src: SourceConfig, clip: ClipSpec, seed: int = 0) -> list[Item]:
    path = Path(src.path)
    if path.is_dir():
        return folder_items(src.path, src.split, clip, src.qa_types, src.frames, seed, src.turns)
    if path.suffix == ".json" and path.exists():
        if src.turns != "question":
            raise DatasetError(f"data source {src.path}: turns: {src.turns} is for dataset folders; a LLaVA JSON "
                               "record already holds its own turns")
        return json_items(src.path, src.media_root, clip)
    raise DatasetError(f"data source {src.path}: not found (expected a dataset folder or a LLaVA .json file)")


class ItemDataset:
    """Map-style dataset: reads an item's frames and returns a `Sample` for `adapter.collate`."""

    def __init__(self, items: list[Item]):
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Sample:
        it = self.items[i]
        frames = it.clip.load() if it.clip else []
        if it.order is not None:
            frames = [frames[k] for k in it.order]
        return Sample(frames=frames, messages=it.messages, id=it.id)


def epoch_order(sizes: Sequence[int], weights: Sequence[float], total: int, seed: int, epoch: int) -> np.ndarray:
    """Global item indices of one epoch: each source contributes round(total * weight share) items,
    cycling through its own shuffles when asked for more than it has."""
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"source weights must be >= 0 with a positive sum, got {list(weights)}")
    rng = np.random.default_rng([seed, epoch])
    shares = np.asarray(weights, dtype=float) / sum(weights)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    parts = []
    for size, share, off in zip(sizes, shares, offsets):
        count = int(round(total * share))
        if size == 0 or count == 0:
            continue
        reps = math.ceil(count / size)
        parts.append(off + np.concatenate([rng.permutation(size) for _ in range(reps)])[:count])
    order = np.concatenate(parts) if parts else np.zeros(0, dtype=int)
    return order[rng.permutation(len(order))]


class LengthGroupedBatchSampler:
    """Batches of similar token length; rank r of W takes global batches r, r+W, ... so the ranks of one
    step see neighbouring batches. `skip` drops the batches a checkpoint says are done (mid-epoch resume)."""

    def __init__(self, lengths: Sequence[int], sizes: Sequence[int], weights: Sequence[float], total: int,
                 batch_size: int, seed: int, group_by_length: bool = True, window: int = 64,
                 world_size: int = 1, rank: int = 0, start_epochs: Sequence[int] | None = None):
        self.lengths = np.asarray(lengths)
        self.sizes, self.weights, self.total = list(sizes), list(weights), total
        self.start_epochs = list(start_epochs or [0] * len(sizes))  # a source is drawn from its start epoch on
        self.batch_size, self.seed, self.group, self.window = batch_size, seed, group_by_length, window
        self.world_size, self.rank = world_size, rank
        self.epoch, self.skip, self.skip_epoch = 0, 0, 0
        self.sampler = self  # Lightning calls set_epoch on `batch_sampler.sampler`, not on the batch sampler

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def global_batches(self, epoch: int) -> list[list[int]]:
        weights = [w if epoch >= start else 0.0 for w, start in zip(self.weights, self.start_epochs)]
        order = epoch_order(self.sizes, weights, self.total, self.seed, epoch)
        bs = self.batch_size
        if self.group:
            span = bs * self.window
            chunks = [order[i:i + span] for i in range(0, len(order), span)]
            order = np.concatenate([c[np.argsort(-self.lengths[c], kind="stable")] for c in chunks])
        batches = [order[i:i + bs].tolist() for i in range(0, len(order) - bs + 1, bs)]
        if self.group:  # keep each step's W batches together, shuffle the steps
            steps = [batches[i:i + self.world_size] for i in range(0, len(batches), self.world_size)]
            rng = np.random.default_rng([self.seed, epoch, 1])
            batches = [b for k in rng.permutation(len(steps)) for b in steps[k]]
        usable = len(batches) // self.world_size * self.world_size
        return batches[:usable]

    def __len__(self) -> int:
        return (self.total // self.batch_size) // self.world_size

    def __iter__(self) -> Iterator[list[int]]:
        mine = self.global_batches(self.epoch)[self.rank::self.world_size]
        skip = self.skip if self.epoch == self.skip_epoch else 0  # a finished epoch's count never leaks into the next
        self.skip = 0
        yield from mine[skip:]


def padding_fraction(batches: Sequence[Sequence[int]], lengths: Sequence[int]) -> float:
    """Share of pad tokens when each batch is padded to its longest sample."""
    real = sum(lengths[i] for b in batches for i in b)
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches if b)
    return 1.0 - real / padded if padded else 0.0


def item_lengths(items: Sequence[Item], adapter: VideoLVLMAdapter) -> list[int]:
    """Token length of each item, visual tokens included, for length grouping, from the adapter's exact
    `encode` (frames are not read for it); an item over model.max_length raises ValueError naming it before
    any forward (never truncated)."""
    return [len(adapter.encode(Sample(frames=[None] * it.clip.num_frames if it.clip else [], messages=it.messages,
                                      id=it.id), train=True)["input_ids"]) for it in items]


class ResumableLoaderMixin:
    """Makes a DataLoader `_Stateful` for Lightning: the checkpoint stores the epoch and the micro-batches
    the trainer has finished (not what workers prefetched), and loading skips exactly those."""

    progress: Callable[[], int] | None = None

    def state_dict(self) -> dict[str, int]:
        done = self.progress() if self.progress else 0
        return {"epoch": int(self.batch_sampler.epoch), "batches_done": int(done)}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.batch_sampler.epoch = self.batch_sampler.skip_epoch = state["epoch"]
        self.batch_sampler.skip = state["batches_done"]


def make_collate(cfg: DataConfig, model_cfg: ModelConfig,
                 adapter: VideoLVLMAdapter) -> Callable[[list[Sample]], dict[str, Any]]:
    """`adapter.collate` (one padded row per sample), or packed rows of `cfg.pack_length` tokens."""
    if not cfg.packing:
        return adapter.collate
    from functools import partial

    from models.packing import collate_packed

    return partial(collate_packed, adapter, pack_length=cfg.pack_length or model_cfg.max_length)


def make_datamodule(cfg: DataConfig, model_cfg: ModelConfig, adapter: VideoLVLMAdapter, clip: ClipSpec):
    """A LightningDataModule over `cfg.sources`, every clip picked as `clip` (the run's, resolved once),
    collated by `adapter.collate` (chat template, label masking, token budget) or, with `cfg.packing`, into
    packed rows."""
    import lightning as L
    from torch.utils.data import DataLoader

    class ResumableLoader(ResumableLoaderMixin, DataLoader):
        pass

    class VideoQADataModule(L.LightningDataModule):
        def __init__(self) -> None:
            super().__init__()
            self.items: list[Item] = []
            self.lengths: list[int] = []
            self.sizes: list[int] = []
            self.loader: ResumableLoader | None = None

        def setup(self, stage: str | None = None) -> None:
            if self.items:
                return
            for src in cfg.sources:
                got = source_items(src, clip, cfg.seed)
                if not got:
                    raise DatasetError(f"data source {src.path} (split {src.split}) has no samples")
                self.items += got
                self.sizes.append(len(got))
            self.lengths = item_lengths(self.items, adapter)
            pack_length = cfg.pack_length or model_cfg.max_length
            if cfg.packing and max(self.lengths) > pack_length:
                longest = int(np.argmax(self.lengths))
                raise ValueError(f"data.pack_length={pack_length} is shorter than sample {self.items[longest].id!r} "
                                 f"({self.lengths[longest]} tokens); raise data.pack_length")

        def sampler(self, world_size: int = 1, rank: int = 0) -> LengthGroupedBatchSampler:
            total = cfg.epoch_samples or sum(self.sizes)
            return LengthGroupedBatchSampler(self.lengths, self.sizes, [s.weight for s in cfg.sources], total,
                                             cfg.batch_size, cfg.seed, cfg.group_by_length, cfg.group_window,
                                             world_size, rank, [s.start_epoch for s in cfg.sources])

        def train_dataloader(self) -> ResumableLoader:
            trainer = self.trainer
            world, rank = (trainer.world_size, trainer.global_rank) if trainer else (1, 0)
            loader = ResumableLoader(ItemDataset(self.items), batch_sampler=self.sampler(world, rank),
                                     collate_fn=make_collate(cfg, model_cfg, adapter), num_workers=cfg.num_workers,
                                     persistent_workers=cfg.num_workers > 0)
            if trainer is not None:
                loader.progress = lambda: trainer.fit_loop.epoch_loop.batch_progress.current.processed
            self.loader = loader
            return loader

    return VideoQADataModule()
