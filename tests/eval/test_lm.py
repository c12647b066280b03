"""DreamFrameLM pieces: batched == batch 1 on the tiny model, stop strings, a torn cache line, held-out prompts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lm_eval.api.instance import Instance

from eval import runtime
from eval.cache import AnswerCache
from eval.lm import DreamFrameLM, truncate_at_stops
from eval.tasks import dreamframe
from eval.tasks.dreamframe import utils
from dreamframe.clip import Clip


def test_truncate_at_stops():
    assert truncate_at_stops("\n A) yes\nmore", ["\n"]) == "\n A) yes"
    assert truncate_at_stops("abc", []) == "abc"
    assert truncate_at_stops("a##b\n", ["\n", "##"]) == "a"


def test_torn_cache_line_is_ignored(tmp_path):
    cache = AnswerCache(tmp_path)
    cache.append("t", [{"key": "k1", "doc_id": 0, "answer": "A"}])
    with cache.path("t").open("a") as fh:
        fh.write('\n{"key": "k2", "doc_id": 1, "ans')  # killed mid-write
    cache.append("t", [{"key": "k3", "doc_id": 2, "answer": "C"}])
    assert cache.load("t") == {"k1": "A", "k3": "C"}


def test_heldout_rows_and_prompts(heldout_root):
    closed = dreamframe.prepare(heldout_root, "dreamframe_heldout_closed", 8, "segment_centre")
    open_ = dreamframe.prepare(heldout_root, "dreamframe_heldout_open", 8, "segment_centre")
    manifest = json.loads((heldout_root / "manifest.json").read_text())
    assert len(closed) + len(open_) == manifest["counts"]["qa_by_split"]["test"]
    row = closed[0]
    assert row["options"][ord(row["answer_letter"]) - 65] == row["answer"]
    ref = Clip.from_dict(row["video"])
    assert Path(ref.path) == heldout_root and ref.files  # the row's own frames (a reversed twin: reversed)
    assert all(f.startswith(f"frames/{row['movie_id']}/") for f in ref.files)
    assert len(ref.load()) == 8
    from dreamframe.prompts import question_text

    assert utils.doc_to_text_closed(row) == question_text(row["question"], row["options"])
    assert utils.doc_to_text_closed(row).endswith("Answer with the option's text.")
    for right in (row["answer_letter"], row["answer"].upper() + "."):
        assert utils.process_results_free(row, [right]) == {"free_acc": 100.0}
    wrong = next(c for c in "ABCD" if c != row["answer_letter"])
    assert utils.process_results_free(row, [f"({wrong})"]) == {"free_acc": 0.0}
    gold = utils.doc_to_target_index(row)
    logliks = [(-1.0, False) if i == gold else (-5.0, False) for i in range(len(row["options"]))]
    assert utils.process_results_choice(row, logliks) == {"acc": 100.0, "acc_norm": 100.0}


def test_exact_match_fallback_is_labelled():
    ctx = runtime.RunContext(judge_name="exact_match")
    items = [{"task": "dreamframe_heldout_open", "question": "q", "answer": "The cat sat.", "pred": p}
             for p in ("the cat sat", "a dog")]
    assert utils.agg_acc(items, ctx=ctx) == 50.0  # percent
    assert ctx.judges_used["dreamframe_heldout_open"].name == "exact_match_fallback"


@pytest.fixture(scope="module")
def tiny_adapter():
    import torch

    from eval.models import build

    torch.set_num_threads(1)
    return build("tiny-llava_onevision")[0]


def test_batched_answers_equal_batch_one(tiny_adapter, heldout_root):
    rows = dreamframe.prepare(heldout_root, "dreamframe_heldout_closed", 4, "segment_centre")[:6]
    reqs = [Instance(request_type="generate_until", doc=r, idx=0, metadata=("t", i, 1),
                     arguments=(utils.doc_to_text_closed(r) + " x" * i, {"until": [], "max_gen_toks": 6},
                                {"visual": [Clip.from_dict(r["video"])]}))
            for i, r in enumerate(rows)]
    one = DreamFrameLM(tiny_adapter, batch_size=1, progress=False).generate_until(reqs)
    three = DreamFrameLM(tiny_adapter, batch_size=3, progress=False).generate_until(reqs)
    assert one == three and all(one)


def test_adapter_gets_the_tasks_frame_count(tiny_adapter, heldout_root, monkeypatch):
    """The adapter's cfg.num_frames is 8; a 16-frame protocol must reach the model's vision inputs as 16."""
    seen = []
    original = tiny_adapter.video_inputs
    monkeypatch.setattr(tiny_adapter, "video_inputs", lambda videos: seen.extend(len(v) for v in videos) or original(videos))
    row = dreamframe.prepare(heldout_root, "dreamframe_heldout_closed", 16, "segment_centre")[0]
    req = Instance(request_type="generate_until", doc=row, idx=0, metadata=("t", 0, 1),
                   arguments=("q", {"until": [], "max_gen_toks": 2}, {"visual": [Clip.from_dict(row["video"])]}))
    before = tiny_adapter.cfg.num_frames
    lm = DreamFrameLM(tiny_adapter, batch_size=2, progress=False)
    lm.generate_until([req, req])
    assert seen and set(seen) == {16} and lm.frames_to_model == {"t": 16}
    assert tiny_adapter.cfg.num_frames == before == 8


def test_fingerprint_follows_weights_not_paths(tiny_adapter, tmp_path):
    import torch

    from eval.models import build, fingerprint_adapter

    tiny_adapter.save(tmp_path / "m")
    loaded, info = build(str(tmp_path / "m"))
    assert info["source"] == "local" and info["model_fingerprint"] == fingerprint_adapter(tiny_adapter)
    with torch.no_grad():
        next(loaded.model.parameters()).view(-1)[0] += 1.0
    assert fingerprint_adapter(loaded) != info["model_fingerprint"]


def test_closed_questions_score_the_same_in_eval_and_in_the_training_check(tiny_adapter, heldout_root, tmp_path):
    """One model, one number per protocol: eval's closed tasks (lm-eval multiple_choice through
    DreamFrameLM.loglikelihood, and free generation) and training's built-in check agree."""
    from eval.run import evaluate
    from eval.tasks import materialise
    from training.evaluate import heldout_check

    cfg = tiny_adapter.cfg
    mat = materialise(["dreamframe_heldout_closed", "dreamframe_heldout_free"], tmp_path, tmp_path / "tasks",
                      num_frames=cfg.num_frames, rule=cfg.frame_sampling,
                      data_dirs={"dreamframe_heldout": str(heldout_root)})
    res = evaluate(DreamFrameLM(tiny_adapter, batch_size=8, progress=False), mat, "tiny", bootstrap_iters=0)
    check = heldout_check(tiny_adapter, str(heldout_root), mat.frame_sampling["dreamframe_heldout_closed"],
                          batch_size=8, max_new_tokens=16, progress=False)
    closed, free = res["results"]["dreamframe_heldout_closed"], res["results"]["dreamframe_heldout_free"]
    assert check["n"] == mat.num_docs["dreamframe_heldout_closed"] == mat.num_docs["dreamframe_heldout_free"]
    assert closed["acc,none"] == pytest.approx(check["acc"], abs=0.01)
    assert closed["acc_norm,none"] == pytest.approx(check["acc_norm"], abs=0.01)
    assert free["free_acc,none"] == pytest.approx(check["free_acc"], abs=0.01)


def test_loglikelihood_is_the_answers_log_probability(tiny_adapter, heldout_root):
    row = dreamframe.prepare(heldout_root, "dreamframe_heldout_closed", tiny_adapter.cfg.num_frames,
                             "segment_centre")[0]
    ref = Clip.from_dict(row["video"])
    prompt = utils.doc_to_text_closed(row)
    reqs = [Instance(request_type="loglikelihood", doc=row, idx=i, metadata=("t", 0, 1),
                     arguments=(prompt, option, {"visual": [ref]})) for i, option in enumerate(row["options"])]
    got = DreamFrameLM(tiny_adapter, batch_size=3, progress=False).loglikelihood(reqs)
    want = tiny_adapter.option_logprobs([ref.load()], [prompt], [row["options"]])[0]
    assert [g[0] for g in got] == pytest.approx(want, abs=1e-4)
    assert all(isinstance(g[1], bool) for g in got) and all(g[0] < 0 for g in got)
