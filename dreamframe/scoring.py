"""The one answer-scoring module: closed (multiple-choice) answers and their controls.

The built-in training check, the eval harness and the pipeline's summary all score a closed question
here, so one model has one number per protocol everywhere:
- `acc` / `acc_norm`: lm-eval's multiple-choice protocol - the option with the highest log-likelihood
  (`acc`), or the highest log-likelihood per character of the option (`acc_norm`);
- `free_acc`: free generation matched to an option (`match_option`); naming none counts as wrong.
Controls that never read the frames sit beside every model: `chance` (mean of 1/len(options)) and
`majority` (for each question, the option most often the answer of its qa_type in the train split).
Minimal pairs (twin clips whose rows share a `pair_id`: the same frames reversed, or the same scene with
another action, the answer flipped) are also scored as pairs: `pair_acc`, the share of pairs whose every
twin is right by `acc` - a model that answers both twins alike (it ignores order or action) scores 0 there.
Figures are percent (0-100) with 95% Wilson intervals.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Z95 = 1.959963984540054


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def match_option(answer: str, options: Sequence[str]) -> int | None:
    """Index of the option a free answer names: exact text, else the option mentioned first (longest
    wins a tie), else a leading option letter such as "(B)" or "B."; None when it names none."""
    got = _norm(answer)
    norms = [_norm(o) for o in options]
    if got in norms:
        return norms.index(got)
    padded = f" {got} "
    hits = [(padded.find(f" {o} "), -len(o), i) for i, o in enumerate(norms) if o and f" {o} " in padded]
    if hits:
        return min(hits)[2]
    letter = re.match(r"\s*\(?([A-Z])[).:\s]", answer + " ")
    if letter and ord(letter.group(1)) - 65 < len(options):
        return ord(letter.group(1)) - 65
    return None


def best_option(logliks: Sequence[float], options: Sequence[str], normalise: bool = False) -> int:
    """lm-eval's pick: argmax of the log-likelihoods, or of log-likelihood / len(option) (first wins ties)."""
    if len(logliks) != len(options) or not options:
        raise ValueError(f"{len(logliks)} log-likelihoods for {len(options)} options")
    scores = [ll / max(1, len(o)) if normalise else ll for ll, o in zip(logliks, options)]
    return max(range(len(scores)), key=scores.__getitem__)


def closed_metrics(options: Sequence[str], answer: str, logliks: Sequence[float] | None = None,
                   free: str | None = None) -> dict[str, Any]:
    """Per-question metrics (0/1) and the picked option texts, for whichever protocols were run."""
    gold = list(options).index(answer)
    out: dict[str, Any] = {}
    if logliks is not None:
        pick, pick_norm = best_option(logliks, options), best_option(logliks, options, normalise=True)
        out.update(acc=float(pick == gold), acc_norm=float(pick_norm == gold), pick=options[pick])
    if free is not None:
        got = match_option(free, options)
        out.update(free_acc=float(got == gold), free_pick=None if got is None else options[got])
    return out


def wilson(hits: float, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval of a proportion, in percent (sound near 0% and 100%, unlike +-1.96 SE)."""
    if n <= 0:
        return (float("nan"), float("nan"))
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (round(100 * max(0.0, centre - half), 2), round(100 * min(1.0, centre + half), 2))


def _block(records: Sequence[Mapping[str, Any]], metrics: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(records)}
    for m in metrics:
        vals = [r[m] for r in records if m in r]
        if len(vals) != len(records) or not vals:
            continue
        out[m] = round(100 * sum(vals) / len(vals), 2)
        out[f"{m}_ci"] = list(wilson(sum(vals), len(vals)))
    return out


def pairs(records: Iterable[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """The records grouped by `pair_id` (absent, None or "" = unpaired, left out); a pair needs at least two
    twins here, so a pair cut in half (an eval `--limit`) is not scored as one."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in records:
        if r.get("pair_id"):
            groups[str(r["pair_id"])].append(r)
    return [g for _, g in sorted(groups.items()) if len(g) >= 2]


def pair_block(records: Iterable[Mapping[str, Any]], metric: str = "acc") -> dict[str, Any]:
    """`pair_acc` (percent of pairs with every twin right by `metric`), its 95% interval and `pair_n`;
    empty when the records hold no pair (or not every twin has the metric)."""
    found = pairs(records)
    if not found or any(metric not in r for g in found for r in g):
        return {}
    hits = sum(all(r[metric] == 1 for r in g) for g in found)
    return {"pair_acc": round(100 * hits / len(found), 2), "pair_acc_ci": list(wilson(hits, len(found))),
            "pair_n": len(found)}


def summarise(records: Iterable[Mapping[str, Any]], metrics: Sequence[str] = ("acc", "acc_norm", "free_acc"),
              ) -> dict[str, Any]:
    """Overall and per-qa_type percent with 95% intervals for each metric present in every record,
    `pair_acc` where the records hold minimal pairs (`pair_block`), plus per type `top_answer_share`
    (`free_top_answer_share` for free answers): the share of questions given the single most-picked option
    (a constant answer shows as a share near 100)."""
    records = list(records)
    by_type: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in records:
        by_type[r["qa_type"]].append(r)
    out = {**_block(records, metrics), **pair_block(records)}
    out["per_type"] = {}
    for qa_type, rows in sorted(by_type.items()):
        block = {**_block(rows, metrics), **pair_block(rows)}
        for key, prefix in (("pick", "top_answer"), ("free_pick", "free_top_answer")):
            picks = Counter(r[key] for r in rows if r.get(key) is not None)
            if picks:
                pick, count = picks.most_common(1)[0]
                block[prefix], block[f"{prefix}_share"] = pick, round(100 * count / len(rows), 2)
        out["per_type"][qa_type] = block
    return out


def stratified_subset(rows: Sequence[Mapping[str, Any]], per_type: int, seed: int = 0) -> list[Mapping[str, Any]]:
    """At most `per_type` rows of each qa_type, in the rows' order: whole minimal pairs (twins are never
    split) and single rows, taken in an order fixed by a hash of (seed, pair_id or id) - the same subset
    for every model and run, whatever the order of `rows`. Scoring fewer held-out questions buys eval
    time; a type's interval widens with 1/sqrt(n)."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[(r["qa_type"], str(r.get("pair_id") or f"id:{r['id']}"))].append(i)
    order = sorted(groups, key=lambda k: hashlib.sha256(f"{seed}:{k[0]}:{k[1]}".encode()).hexdigest())
    taken: Counter = Counter()
    keep: list[int] = []
    for key in order:
        if taken[key[0]] + len(groups[key]) <= per_type:
            taken[key[0]] += len(groups[key])
            keep += groups[key]
    return [rows[i] for i in sorted(keep)]


def pair_chance(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A uniform guess's `pair_acc`: per pair the product of its twins' 1/len(options), averaged (percent)."""
    found = pairs(rows)
    if not found:
        return {}
    per_pair = [math.prod(1 / len(r["options"]) for r in g) for g in found]
    return {"pair_acc": round(100 * sum(per_pair) / len(per_pair), 2), "pair_n": len(per_pair)}


def chance(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Expected accuracy of a uniform guess, overall and per qa_type (percent), and its `pair_acc`."""
    rows = [r for r in rows if r["options"]]
    by_type: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        by_type[r["qa_type"]].append(r)

    def block(group: list[Mapping[str, Any]]) -> dict[str, Any]:
        guess = [1 / len(r["options"]) for r in group]
        return {"acc": round(100 * sum(guess) / max(1, len(guess)), 2), "n": len(guess), **pair_chance(group)}

    return {**block(rows), "per_type": {t: block(v) for t, v in sorted(by_type.items())}}


class MajorityPrior:
    """Answers from the train split's answer counts alone: for a question, the option that is most often
    the answer of its qa_type in the train split (ties: the earlier option). Never reads frames or text."""

    def __init__(self, train_rows: Iterable[Mapping[str, Any]]):
        self.counts: dict[str, Counter] = defaultdict(Counter)
        for r in train_rows:
            if r["options"]:
                self.counts[r["qa_type"]][r["answer"]] += 1

    def pick(self, qa_type: str, options: Sequence[str]) -> int:
        counts = self.counts[qa_type]
        return max(range(len(options)), key=lambda i: (counts[options[i]], -i))

    def records(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for r in rows:
            if r["options"]:
                pick = self.pick(r["qa_type"], r["options"])
                out.append({"qa_type": r["qa_type"], "acc": float(r["options"][pick] == r["answer"]),
                            "pick": r["options"][pick], "pair_id": r.get("pair_id")})
        return out


def controls(train_rows: Iterable[Mapping[str, Any]], test_rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The `chance` and `majority` entries of a held-out summary; the majority entry also gives, per type,
    `answer_share`: the share of the most common correct answer (what a constant answer would score)."""
    test_rows = [r for r in test_rows if r["options"]]
    majority = summarise(MajorityPrior(train_rows).records(test_rows), ("acc",))
    by_type: dict[str, Counter] = defaultdict(Counter)
    for r in test_rows:
        by_type[r["qa_type"]][r["answer"]] += 1
    for qa_type, answers in by_type.items():
        majority["per_type"][qa_type]["answer_share"] = round(100 * max(answers.values()) / sum(answers.values()), 2)
    return {"chance": chance(test_rows), "majority": majority}


class TextOnlyPrior:
    """A text-only answerer for the blind-answerability audit: per qa_type, multinomial naive Bayes from
    the question's words (and word pairs) to the answer text, fitted on the train split; a question gets
    its most probable option. It never sees frames, so accuracy above chance means the text leaks the answer."""

    def __init__(self, train_rows: Iterable[Mapping[str, Any]], alpha: float = 1.0):
        self.alpha = alpha
        self.prior = MajorityPrior(train_rows := [r for r in train_rows if r["options"]])
        self.words: dict[tuple[str, str], Counter] = defaultdict(Counter)
        self.vocab: dict[str, set[str]] = defaultdict(set)
        for r in train_rows:
            feats = self.features(r["question"])
            self.words[(r["qa_type"], r["answer"])].update(feats)
            self.vocab[r["qa_type"]].update(feats)
        self.totals = {key: sum(c.values()) for key, c in self.words.items()}

    @staticmethod
    def features(question: str) -> list[str]:
        words = _norm(question).split()
        return words + [f"{a}_{b}" for a, b in zip(words, words[1:])]

    def pick(self, qa_type: str, question: str, options: Sequence[str]) -> int:
        feats, vocab = self.features(question), len(self.vocab[qa_type]) + 1
        counts = self.prior.counts[qa_type]

        def score(option: str) -> float:
            words = self.words.get((qa_type, option), Counter())
            total = self.totals.get((qa_type, option), 0) + self.alpha * vocab
            return (math.log(counts[option] + self.alpha)
                    + sum(math.log((words[f] + self.alpha) / total) for f in feats))

        return max(range(len(options)), key=lambda i: (score(options[i]), -i))

    def records(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for r in rows:
            if r["options"]:
                pick = self.pick(r["qa_type"], r["question"], r["options"])
                out.append({"qa_type": r["qa_type"], "acc": float(r["options"][pick] == r["answer"]),
                            "pick": r["options"][pick]})
        return out


def blind_audit(train_rows: Iterable[Mapping[str, Any]], test_rows: Iterable[Mapping[str, Any]],
                margin: float = 5.0) -> dict[str, dict[str, Any]]:
    """Per qa_type: chance, majority and text-only accuracy (percent) on the test questions, flagged
    when a prior that never sees the frames beats chance by more than `margin` points."""
    train_rows, test_rows = list(train_rows), [r for r in test_rows if r["options"]]
    base = chance(test_rows)["per_type"]
    majority = summarise(MajorityPrior(train_rows).records(test_rows), ("acc",))["per_type"]
    text = summarise(TextOnlyPrior(train_rows).records(test_rows), ("acc",))["per_type"]
    return {t: {"n": base[t]["n"], "chance": base[t]["acc"], "majority": majority[t]["acc"],
                "majority_ci": majority[t]["acc_ci"], "text_only": text[t]["acc"], "text_only_ci": text[t]["acc_ci"],
                "flagged": max(majority[t]["acc"], text[t]["acc"]) > base[t]["acc"] + margin}
            for t in base}
