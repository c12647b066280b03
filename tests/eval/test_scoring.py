"""Scoring through the real lm-eval pipeline: reference answers give 100%, wrong ones 0% (percent everywhere)."""

from __future__ import annotations

import pytest
from lm_eval.api.model import LM

from eval.run import evaluate
from eval.tasks import materialise
from eval.tasks.common import LETTERS


class ReferenceLM(LM):
    """Answers every request with its reference (or a wrong option), as a model would write it."""

    MULTIMODAL = True

    def __init__(self, wrong: bool = False):
        super().__init__()
        self.wrong = wrong

    def loglikelihood(self, requests):
        """Multiple choice: the reference option is the likeliest continuation (or the least likely)."""
        out = []
        for req in requests:
            right = req.args[1].strip() == req.doc["answer"]
            out.append((0.0, True) if right != self.wrong else (-10.0, False))
        return out

    def loglikelihood_rolling(self, requests):
        raise NotImplementedError

    def generate_until(self, requests, disable_tqdm: bool = False):
        out = []
        for req in requests:
            doc = req.doc
            options = doc.get("candidates") or doc.get("options") or []
            if not options:  # open question
                out.append("no idea at all" if self.wrong else doc["answer"])
                continue
            letter = doc["answer_letter"]
            if self.wrong:
                letter = next(c for c in LETTERS[: len(options)] if c != letter)
            text = options[LETTERS.index(letter)]
            # MVBench answers follow the primed "Best option:(" ; held-out answers are a bare letter
            out.append(f"{letter}) {text}" if "candidates" in doc else letter)
        return out


@pytest.mark.parametrize("wrong", [False, True])
def test_reference_answers_score_100_wrong_score_0(tmp_path, mvbench_root, heldout_root, wrong):
    mat = materialise(["mvbench", "dreamframe_heldout"], tmp_path, tmp_path / "tasks",
                      data_dirs={"mvbench": str(mvbench_root), "dreamframe_heldout": str(heldout_root)})
    assert set(mat.task_names) == {"mvbench", "dreamframe_heldout"}
    assert len([t for t in mat.num_docs if t.startswith("mvbench_")]) == 20
    res = evaluate(ReferenceLM(wrong), mat, "reference", bootstrap_iters=0)
    expected = 0.0 if wrong else 100.0
    for task, n in mat.num_docs.items():
        metric = "free_acc" if task == "dreamframe_heldout_free" else "acc"
        assert res["results"][task][f"{metric},none"] == expected, task
        assert res["n-samples"][task]["effective"] == n
    assert res["results"]["dreamframe_heldout_closed"]["acc_norm,none"] == expected
    assert res["groups"]["mvbench"]["acc,none"] == expected
    assert res["groups"]["dreamframe_heldout"]["acc,none"] == expected
