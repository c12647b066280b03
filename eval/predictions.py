"""Score answers produced elsewhere: `python -m eval.run --predictions FILE.jsonl`, no model loaded.

One JSON object a line: {"question_id": "<the benchmark's own id>", "answer": "<the answer text as the
model wrote it>"} and, where ids repeat across the tasks scored, "task": "<lm-eval task or benchmark name>".
The answers go through the same loaders, answer extraction, judges and reports as a model's would
(MVBench: the text after the primed `Best option:(`, as the VideoChat2 notebook scores it).

The question id of a benchmark item (`question_id(doc)`):
- MSVD/MSRVTT/TGIF/ActivityNet-QA, Video-MME: the official `question_id`;
- DreamFrame held-out: the QA pair's `id`; MVBench (no ids upstream): `mvbench_<json file stem>_<index in
  that file>`, e.g. `mvbench_action_sequence_0`;
- VCGBench: `<video_name>_<n>` (n-th item of that video in its QA file, the reference key scheme),
  consistency answers `<key>/Q1` and `<key>/Q2`; needs "task" (generic and temporal share keys);
- TempCompass: `<video_id>/<dimension>/<index>`; needs "task" (the four formats share them);
- Video-MME with and without subtitles share ids: "task": "videomme" or "videomme_w_subs" when both are scored;
- Video-Bench: the item's key in its `Eval_QA/<Dataset>_QA_new.json`; "task": `videobench_<dataset>` where
  keys repeat across datasets.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from lm_eval.api.model import LM

from dreamframe.jsonl import read_jsonl
from dreamframe.scoring import match_option


class PredictionsError(ValueError):
    """A predictions file that cannot be used; the message names the file, line and field."""


def question_id(doc: dict[str, Any]) -> str:
    """The benchmark's own id of a task document (see the module docstring)."""
    if "question_id" in doc:
        return str(doc["question_id"])
    if "id" in doc:
        return str(doc["id"])
    if "qid" in doc:
        return str(doc["qid"])
    if "key" in doc:
        return doc["key"] + (f"/Q{doc['which']}" if doc.get("which") else "")
    if {"video_id", "dim", "index"} <= doc.keys():
        return f"{doc['video_id']}/{doc['dim']}/{doc['index']}"
    raise KeyError(f"no question id in document with fields {sorted(doc)}")


def load_predictions(path: str | Path) -> dict[tuple[str | None, str], str]:
    """(task or None, question id) -> answer text."""
    path = Path(path)
    if not path.is_file():
        raise PredictionsError(f"--predictions {path}: no such file")
    out: dict[tuple[str | None, str], str] = {}
    for n, row in read_jsonl(path, PredictionsError):
        if not isinstance(row, dict) or "question_id" not in row or "answer" not in row:
            raise PredictionsError(f"{path}:{n}: needs the fields question_id and answer")
        if not isinstance(row["answer"], str):
            raise PredictionsError(f"{path}:{n}: answer must be a string, got {type(row['answer']).__name__}")
        key = (row.get("task"), str(row["question_id"]))
        if key in out:
            raise PredictionsError(f"{path}:{n}: question_id {key[1]!r}" + (f" of task {key[0]!r}" if key[0] else "")
                                   + " appears twice")
        out[key] = row["answer"]
    if not out:
        raise PredictionsError(f"{path}: no predictions")
    return out


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class PredictionsLM(LM):
    """An lm-eval model that answers each request from a predictions file and reads no video."""

    MULTIMODAL = True
    supports_answer_prefix = False

    def __init__(self, path: str | Path, benchmark_of: dict[str, str] | None = None):
        """`benchmark_of`: lm-eval task -> benchmark name, so a line's "task" may name either."""
        super().__init__()
        self.path = Path(path)
        self.benchmark_of = benchmark_of or {}
        self.answers = load_predictions(self.path)
        self.errors: dict[str, Counter] = defaultdict(Counter)
        self.error_items: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.stats = Counter()
        self.frames_to_model: dict[str, int] = {}
        self.used: set[tuple[str | None, str]] = set()

    def loglikelihood(self, requests) -> list[tuple[float, bool]]:
        """Multiple choice (lm-eval's argmax over option log-likelihoods) from a written answer: the option
        it names (`dreamframe.scoring.match_option`) scores 0 and every other -inf; an answer naming no
        option is wrong, as in free_acc, so then the correct option alone scores -inf."""
        docs = {(r.task_name, r.doc_id): r for r in requests}  # one answer (and one miss) per question
        answers = dict(zip(docs, self.generate_until(list(docs.values()), disable_tqdm=True)))
        out = []
        for req in requests:
            options = [str(o).strip() for o in req.doc["options"]]
            index = options.index(req.args[1].strip())
            chosen = match_option(answers[(req.task_name, req.doc_id)], options)
            if chosen is None:
                out.append((float("-inf") if options[index] == str(req.doc["answer"]).strip() else 0.0, False))
            else:
                out.append((0.0 if index == chosen else float("-inf"), index == chosen))
        return out

    def loglikelihood_rolling(self, requests):  # noqa: D102
        raise NotImplementedError("predictions are scored as generated answers")

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        keys = [(req.task_name or "unknown", question_id(req.doc)) for req in requests]
        tasks_of: dict[str, set[str]] = defaultdict(set)
        for task, qid in keys:
            tasks_of[qid].add(task)
        ambiguous = sorted(q for (t, q) in self.answers if t is None and len(tasks_of.get(q, ())) > 1)
        if ambiguous:
            raise PredictionsError(f"{self.path}: question_id {ambiguous[0]!r} (and {len(ambiguous) - 1} more) "
                                   f"occurs in tasks {sorted(tasks_of[ambiguous[0]])}: add a \"task\" field")
        out = []
        for req, (task, qid) in zip(requests, keys):
            candidates = [(task, qid), (self.benchmark_of.get(task), qid), (None, qid)]
            key = next((k for k in candidates if k in self.answers), None)
            if key is not None:
                self.used.add(key)
                self.stats["matched"] += 1
                out.append(self.answers[key])
            else:
                self.errors[task]["missing_prediction"] += 1
                self.error_items[task].append({"doc_id": req.doc_id, "kind": "missing_prediction",
                                               "message": f"no prediction for question_id {qid!r}"})
                out.append("")
        return out

    def summary(self) -> dict[str, Any]:
        """What the results record about the answers: where they came from and how many matched."""
        unused = sorted(set(self.answers) - self.used, key=lambda k: (k[0] or "", k[1]))
        return {"source": "predictions", "predictions_file": str(self.path.resolve()),
                "predictions_sha256": file_sha256(self.path), "lines": len(self.answers),
                "matched": self.stats["matched"], "missing": sum(c["missing_prediction"] for c in self.errors.values()),
                "unmatched_lines": len(unused), "unmatched_examples": [q for _, q in unused[:5]],
                "model_loaded": False}
