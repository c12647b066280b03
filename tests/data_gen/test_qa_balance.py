"""Answer balance of the grounded QA on every data_gen config the pipeline and README use.

A model that never sees the frames must not beat chance by learning which answers are common: within
each closed question type the correct value, and the correct option's position, are uniform. Checked on
the procedural writer with each YAML's story and QA settings (the LLM-written configs share those rules;
what an LLM writes is audited per dataset by the report's blind-answerability section).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from scipy.stats import chisquare

from data_gen.config import GenerateConfig
from data_gen.qa import make_qa
from data_gen.story.procedural import write_movie
from dreamframe import scoring
from dreamframe.config import from_dict, load_yaml
from tests.conftest import REPO


def _by_settings() -> dict[str, Path]:
    """One config per distinct (story, qa, seed): configs that differ only in backends share their answers."""
    groups: dict[str, list[Path]] = {}
    for path in sorted((REPO / "configs" / "data_gen").glob("*.yaml")):
        d = load_yaml(str(path))
        key = json.dumps([{k: v for k, v in d["story"].items() if k != "backend"}, d["qa"], d["seed"]], sort_keys=True)
        groups.setdefault(key, []).append(path)
    return {"+".join(p.name for p in paths): paths[0] for paths in groups.values()}


CONFIGS = _by_settings()
MIN_MOVIES, MIN_QUESTIONS = 240, 3000
P_MIN = 1e-3  # a uniformity test this unlikely under uniform answers fails the config


def closed_rows(path: Path) -> list[dict]:
    cfg = from_dict(GenerateConfig, load_yaml(str(path)))
    rows, i = [], 0
    while i < MIN_MOVIES or len(rows) < MIN_QUESTIONS:
        movie = write_movie(cfg.story, cfg.seed, i, f"m{i:05d}")
        split = "test" if i % 4 == 0 else "train"
        rows += [{"qa_type": q.qa_type, "answer": q.answer, "options": q.options, "question": q.question,
                  "split": split, "movie": i} for q in make_qa(movie, cfg.qa, seed=i) if q.options]
        i += 1
    return rows


@pytest.mark.parametrize("names", CONFIGS)
def test_answers_and_positions_are_uniform_per_type(names):
    path = CONFIGS[names]
    rows = closed_rows(path)
    by_type = defaultdict(list)
    for r in rows:
        by_type[r["qa_type"]].append(r)
    checked = 0
    for qa_type, items in by_type.items():
        if len(items) < 100:
            continue
        # a movie's questions share its cast and places: one question per movie keeps the test's samples independent
        first = {r["movie"]: r for r in reversed(items)}.values()
        values = Counter(r["answer"] for r in first)
        assert len(values) > 1 and chisquare(list(values.values())).pvalue > P_MIN, (qa_type, values.most_common())
        assert all(len(r["options"]) > 1 for r in items), f"{qa_type}: a closed question with one option"
        for k in {len(r["options"]) for r in items}:
            pos = Counter(r["options"].index(r["answer"]) for r in items if len(r["options"]) == k)
            if sum(pos.values()) >= 50:
                assert chisquare([pos[j] for j in range(k)]).pvalue > P_MIN, (qa_type, k, pos)
        checked += 1
    assert checked >= 4, f"{path.name}: too few closed question types with enough questions ({sorted(by_type)})"
    # and the controls of the summary see it: the majority answer sits at chance
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    controls = scoring.controls(train, test)
    assert controls["majority"]["acc"] <= controls["chance"]["acc"] + 3.0, controls


def test_a_skewed_writer_fails_the_check():
    """The check can fail: answers of one type skewed 60/20/20 are refused."""
    skewed = Counter({"1": 600, "2": 200, "3": 200})
    assert chisquare(list(skewed.values())).pvalue < P_MIN
