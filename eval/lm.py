"""The lm-eval model class: runs any `models/` adapter on video QA requests, batched and cached.

lm-eval hands `generate_until` a list of `Instance`s whose args are
`(context, gen_kwargs, {"visual": [...]})` (and `loglikelihood`, for multiple-choice tasks,
`(context, continuation, {"visual": [...]})`); `visual` is either a list of PIL frames (one video) or a
list holding one `dreamframe.clip.Clip` (decoded here, a batch at a time: the task chose the frames, and the
adapter is fed exactly those - adapters never resample). Requests are grouped by task and
generation settings, sorted by prompt length (less left padding) and sent to `adapter.generate` in
batches. Answers are appended to the answer cache after every batch, so a killed run resumes.
A missing or unreadable video is counted per task, answered with "" and left out of the cache.
"""

from __future__ import annotations

import inspect
import logging
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lm_eval.api.model import LM
from lm_eval.api.registry import register_model
from PIL import Image

from dreamframe.video import VideoError
from eval.cache import AnswerCache, answer_key
from models.base import VideoLVLMAdapter
from dreamframe.clip import Clip, MissingVideo

log = logging.getLogger(__name__)


def truncate_at_stops(text: str, until: list[str]) -> str:
    """Cut at the first stop sequence found after any leading whitespace.

    Skipping leading whitespace makes `until: ["\\n"]` equal to the reference scripts'
    `answer.strip().split("\\n")[0]` even when a model starts its answer with a newline.
    """
    start = len(text) - len(text.lstrip())
    cut = len(text)
    for stop in until or []:
        if stop:
            i = text.find(stop, start)
            if i != -1:
                cut = min(cut, i)
    return text[:cut]


@register_model("dreamframe")
class DreamFrameLM(LM):
    """lm-eval front of a `models.base.VideoLVLMAdapter`."""

    MULTIMODAL = True

    def __init__(self, adapter: VideoLVLMAdapter | None = None, batch_size: int = 8, cache_dir: str | Path | None = None,
                 progress: bool = True, model: str | None = None, **model_cfg: Any) -> None:
        """`adapter` is a built adapter; from the lm-eval CLI, `model=PATH_OR_PRESET` builds one instead."""
        super().__init__()
        if adapter is None:  # `lm_eval --model dreamframe --model_args model=PATH`
            from eval.models import build

            for key in ("device", "max_batch_size"):  # lm-eval CLI extras; the adapter places itself
                model_cfg.pop(key, None)
            family = model_cfg.pop("family", None)
            adapter, _ = build(model or "tiny-llava_onevision", model_cfg, family)
        self.adapter = adapter
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.cache = AnswerCache(cache_dir) if cache_dir else None
        self.progress = progress
        self.errors: dict[str, Counter] = defaultdict(Counter)
        self.error_items: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.stats = Counter()
        self._cache_by_task: dict[str, dict[str, Any]] = {}
        self.frames_to_model: dict[str, int] = {}
        """task -> frames per video actually handed to the adapter."""
        params = inspect.signature(adapter.generate).parameters
        self.supports_answer_prefix = "answer_prefix" in params

    # -- lm-eval API ----------------------------------------------------------------------------
    def loglikelihood(self, requests, disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        """(log p(continuation | context, video), is greedy) per request, for `multiple_choice` tasks.

        The context is the user turn and the continuation the whole assistant turn (its end-of-turn
        marker included, see `answer_logprobs`); lm-eval's leading target delimiter is dropped because
        a chat turn starts afresh. A request whose video is missing scores -inf (counted)."""
        from tqdm.auto import tqdm

        results: list[tuple[float, bool] | None] = [None] * len(requests)
        todo: dict[str, list[tuple[int, str, Any]]] = defaultdict(list)
        for i, req in enumerate(requests):
            context, continuation, visual = _unpack_loglikelihood(req.args)
            task = req.task_name or "unknown"
            key = answer_key(context, visual, {"loglikelihood": continuation})
            cached = self._cached(task).get(key)
            if cached is not None:
                results[i] = (float(cached[0]), bool(cached[1]))
                self.stats["cached"] += 1
            else:
                todo[task].append((i, key, req))
        pending = sum(len(v) for v in todo.values())
        bar = tqdm(total=len(requests), initial=len(requests) - pending, desc="scoring options", unit="option",
                   disable=disable_tqdm or not self.progress)
        for task, items in todo.items():
            items.sort(key=lambda it: -len(it[2].args[0]))
            for j in range(0, len(items), self.batch_size):
                self._score_batch(task, items[j:j + self.batch_size], results)
                bar.update(min(self.batch_size, len(items) - j))
        bar.close()
        return [r if r is not None else (float("-inf"), False) for r in results]

    def loglikelihood_rolling(self, requests):  # noqa: D102
        raise NotImplementedError("DreamFrameLM scores answers to videos, not whole texts (no perplexity tasks)")

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        from tqdm.auto import tqdm

        answers: list[str | None] = [None] * len(requests)
        todo: dict[tuple[str, str], list[tuple[int, str, Any]]] = defaultdict(list)
        for i, req in enumerate(requests):
            context, gen_kwargs, visual = _unpack(req.args)
            task = req.task_name or "unknown"
            key = answer_key(context, visual, gen_kwargs)
            if key in self._cached(task):
                answers[i] = self._cached(task)[key]
                self.stats["cached"] += 1
            else:
                group = (task, repr(sorted(gen_kwargs.items(), key=lambda kv: kv[0])))
                todo[group].append((i, key, req))
        pending = sum(len(v) for v in todo.values())
        bar = tqdm(total=len(requests), initial=len(requests) - pending, desc="answering", unit="q",
                   disable=disable_tqdm or not self.progress)
        with ThreadPoolExecutor(max_workers=1) as pool:  # one batch decoded ahead
            for (task, _), items in todo.items():
                items.sort(key=lambda it: -len(_unpack(it[2].args)[0]))
                batches = [items[j: j + self.batch_size] for j in range(0, len(items), self.batch_size)]
                future = pool.submit(self._load_batch, task, batches[0]) if batches else None
                for b, batch in enumerate(batches):
                    loaded = future.result()
                    if b + 1 < len(batches):  # decode the next batch while this one generates
                        future = pool.submit(self._load_batch, task, batches[b + 1])
                    self._answer_batch(task, batch, loaded, answers)
                    bar.update(len(batch))
        bar.close()
        return [a if a is not None else "" for a in answers]

    # -- internals --------------------------------------------------------------------------------
    def _cached(self, task: str) -> dict[str, Any]:
        if task not in self._cache_by_task:
            self._cache_by_task[task] = self.cache.load(task) if self.cache else {}
        return self._cache_by_task[task]

    def _load_batch(self, task: str, batch: list[tuple[int, str, Any]]) -> list[list[Image.Image] | None]:
        """Frames per request, or None (counted) when the video is missing or unreadable; requests about
        the same video (a question's options) share one decode."""
        out: list[list[Image.Image] | None] = []
        decoded: dict[str, list[Image.Image] | None] = {}
        for _, _, req in batch:
            visual = req.args[-1].get("visual", []) if isinstance(req.args[-1], dict) else []
            visual = visual if isinstance(visual, list) else [visual]
            vid = answer_key("", visual, {})
            if vid not in decoded:
                try:
                    decoded[vid] = _frames(visual)
                except MissingVideo as err:
                    self._count(task, "missing_video", req, err)
                    decoded[vid] = None
                except VideoError as err:
                    self._count(task, "unreadable", req, err)
                    decoded[vid] = None
            out.append(decoded[vid])
        return out

    def _score_batch(self, task: str, batch: list[tuple[int, str, Any]], results: list) -> None:
        frames = self._load_batch(task, batch)
        ok = [(item, f) for item, f in zip(batch, frames) if f is not None]
        if not ok:
            return
        contexts, answers = zip(*[_unpack_loglikelihood(item[2].args)[:2] for item, _ in ok])
        videos = [f for _, f in ok]
        scored = self.adapter.answer_logprobs(videos, list(contexts), list(answers), batch_size=len(ok))
        self.frames_to_model[task] = len(videos[0])
        rows = []
        for ((i, key, req), _), (logprob, greedy) in zip(ok, scored):
            results[i] = (logprob, greedy)
            rows.append({"key": key, "doc_id": req.doc_id, "answer": [logprob, greedy]})
        self.stats["scored"] += len(rows)
        if self.cache:
            self.cache.append(task, rows)

    def _count(self, task: str, kind: str, req: Any, err: Exception) -> None:
        self.errors[task][kind] += 1
        self.error_items[task].append({"doc_id": req.doc_id, "kind": kind, "message": str(err)})
        log.warning("%s doc %s: %s (counted as %s, answered with an empty string)", task, req.doc_id, err, kind)

    def _answer_batch(self, task: str, batch: list[tuple[int, str, Any]], frames: list, answers: list) -> None:
        ok = [(item, f) for item, f in zip(batch, frames) if f is not None]
        for (i, _, _), f in zip(batch, frames):
            if f is None:
                answers[i] = ""
        if not ok:
            return
        _, gen_kwargs, _ = _unpack(ok[0][0][2].args)
        kwargs: dict[str, Any] = {"max_new_tokens": int(gen_kwargs.get("max_gen_toks", 32))}
        prefix = gen_kwargs.get("answer_prefix")
        if prefix and self.supports_answer_prefix:
            kwargs["answer_prefix"] = prefix
        elif prefix:
            self.stats["answer_prefix_unsupported"] += 1
        videos = [f for _, f in ok]
        texts = self.adapter.generate(videos, [_unpack(item[2].args)[0] for item, _ in ok], **kwargs)
        self.frames_to_model[task] = len(videos[0])
        if len(texts) != len(ok):
            raise RuntimeError(f"adapter returned {len(texts)} answers for a batch of {len(ok)}")
        rows = []
        for ((i, key, req), _), text in zip(ok, texts):
            text = truncate_at_stops(text, list(gen_kwargs.get("until") or []))
            answers[i] = text
            rows.append({"key": key, "doc_id": req.doc_id, "answer": text})
        self.stats["generated"] += len(rows)
        if self.cache:
            self.cache.append(task, rows)


def _unpack(args: tuple) -> tuple[str, dict[str, Any], list[Any]]:
    context, gen_kwargs = args[0], dict(args[1] or {})
    visual = args[2].get("visual", []) if len(args) > 2 and isinstance(args[2], dict) else []
    if visual is None:
        visual = []
    return context, gen_kwargs, visual if isinstance(visual, list) else [visual]


def _unpack_loglikelihood(args: tuple) -> tuple[str, str, list[Any]]:
    """(context, continuation without lm-eval's leading target delimiter, visual list)."""
    visual = args[2].get("visual", []) if len(args) > 2 and isinstance(args[2], dict) else []
    return args[0], args[1].lstrip(), visual if isinstance(visual, list) else [visual]


def _frames(visual: list[Any]) -> list[Image.Image]:
    """One video's frames from a request's visual list (a Clip, or frames already decoded)."""
    if len(visual) == 1 and isinstance(visual[0], Clip):
        return visual[0].load()
    if visual and all(isinstance(v, Image.Image) for v in visual):
        return [v.convert("RGB") for v in visual]
    if not visual:
        raise VideoError("request has no video (doc_to_image returned nothing)")
    raise TypeError(f"visual must be [Clip] or a list of PIL images, got {[type(v).__name__ for v in visual]}")
