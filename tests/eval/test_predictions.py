"""`python -m eval.run --predictions FILE.jsonl`: answers made elsewhere, keyed by each benchmark's own
question ids read straight from its official files, scored with no model: reference answers give 100%."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from eval.run import main
from eval.tasks.mvbench import _SPEC
from tests.eval.benchmarks import fixtures

SCORE_METRICS = {"score", "correctness", "detail", "context", "temporal", "consistency"}  # 0-5 judge scales
TASKS = ("mvbench,dreamframe_heldout,msvd_qa,msrvtt_qa,tgif_qa,activitynet_qa,vcgbench,tempcompass,videomme,"
         "videomme_w_subs,videobench")


def read(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def reference_predictions(bench: Path, mvbench: Path, heldout: Path) -> list[dict]:
    """Each benchmark's reference answers, as a model would write them, from its official files."""
    lines = []
    for json_name, *_rest in _SPEC.values():  # MVBench: no ids upstream -> mvbench_<json stem>_<index>
        for i, item in enumerate(read(mvbench / "json" / json_name)):
            letter = string.ascii_uppercase[item["candidates"].index(item["answer"])]
            lines.append({"question_id": f"mvbench_{Path(json_name).stem}_{i}",
                          "answer": f"{letter}) {item['answer']}"})  # the text after the primed "Best option:("
    for row in pq.read_table(heldout / "qa" / "test-00000-of-00001.parquet").to_pylist():
        answer = string.ascii_uppercase[row["options"].index(row["answer"])] if row["closed"] else row["answer"]
        lines.append({"question_id": row["id"], "answer": answer})
    for folder in sorted((bench / "GPT_Zero_Shot_QA").iterdir()):
        lines += [{"question_id": a["question_id"], "answer": a["answer"]} for a in read(folder / "test_a.json")]
    qa = bench / "Video_5_Benchmark" / "Benchmarking_QA"
    for split in ("generic", "temporal", "consistency"):
        seen: dict[str, int] = {}
        for item in read(qa / f"{split}_qa.json"):
            seen[item["video_name"]] = seen.get(item["video_name"], -1) + 1
            key = f"{item['video_name']}_{seen[item['video_name']]}"
            for qid in ([f"{key}/Q1", f"{key}/Q2"] if split == "consistency" else [key]):
                lines.append({"task": f"vcgbench_{split}", "question_id": qid, "answer": item["A"]})
    questions = bench / "TempCompass" / "questions"
    mc = read(questions / "multi-choice.json")
    for fmt in ("multi-choice", "yes_no", "caption_matching", "captioning"):
        for vid, dims in read(questions / f"{fmt}.json").items():
            for dim, items in dims.items():
                for i, item in enumerate(items):
                    answer = item["answer"] if fmt != "captioning" else \
                        "A person is " + mc[vid][dim][0]["answer"].split(". ", 1)[1] + "."
                    lines.append({"task": "tempcompass_" + fmt.replace("-", "_"), "question_id": f"{vid}/{dim}/{i}",
                                  "answer": answer})
    for row in pq.read_table(bench / "Video-MME" / "videomme" / "test-00000-of-00001.parquet").to_pylist():
        for variant in ("videomme", "videomme_w_subs"):  # both scored here: the benchmark names the answers
            lines.append({"task": variant, "question_id": row["question_id"],
                          "answer": f"The best answer is {row['answer']}."})
    for path in sorted((bench / "Video-Bench" / "Eval_QA").glob("*_QA_new.json")):
        for key, item in read(path).items():
            lines.append({"question_id": key, "answer": f"{item['answer']}. {item['choices'][item['answer']]}"})
    return lines


def perfect(metric: str, value: float) -> bool:
    return value == (5.0 if metric in SCORE_METRICS else 100.0)  # accuracies in percent


@pytest.fixture
def bench(tmp_path) -> Path:
    for make in (fixtures.open_qa, fixtures.vcgbench, fixtures.tempcompass, fixtures.videobench):
        make(tmp_path)
    fixtures.videomme(tmp_path, missing_one=False)
    return tmp_path


def run(tmp_path, bench, mvbench_root, heldout_root, lines, name="external", tasks=TASKS) -> dict:
    pred = tmp_path / f"{name}.jsonl"
    pred.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    dirs = json.dumps({"mvbench": str(mvbench_root), "dreamframe_heldout": str(heldout_root)})
    assert main(["--predictions", str(pred), "--tasks", tasks, "--data-root", str(bench), "--data-dirs", dirs,
                 "--out", str(tmp_path / "ev"), "--bootstrap-iters", "0", "--progress", "false"]) == 0
    return json.loads(sorted((tmp_path / "ev" / name).glob("results_*.json"))[-1].read_text())


def test_reference_predictions_score_100_on_every_benchmark_without_a_model(tmp_path, bench, mvbench_root,
                                                                           heldout_root, monkeypatch):
    import models.registry

    monkeypatch.setattr(models.registry, "build_adapter", lambda *a, **k: pytest.fail("a model was built"))
    lines = reference_predictions(bench, mvbench_root, heldout_root)
    res = run(tmp_path, bench, mvbench_root, heldout_root, lines)
    scored = {t: r for t, r in res["results"].items() if t in res["configs"]}
    # 20 MVBench tasks, held-out closed/open, 4 open QA, 3 VCGBench, 4 TempCompass, Video-MME x2, Video-Bench
    assert len(scored) >= 40 and any(t.startswith("videobench_") for t in scored)
    for task, metrics in scored.items():
        values = {k.split(",")[0]: v for k, v in metrics.items() if k.endswith(",none") and "stderr" not in k
                  and isinstance(v, float) and k.split(",")[0] not in ("unanswered", "match_rate")}  # diagnostics
        assert values and all(perfect(m, v) for m, v in values.items()), (task, values)
    answers = res["dreamframe"]["answers"]
    assert answers["source"] == "predictions" and answers["model_loaded"] is False
    assert answers["missing"] == 0 and answers["matched"] == sum(n["effective"] for n in res["n-samples"].values())
    assert res["dreamframe"]["source"] == "predictions" and res["dreamframe"]["model_path"] is None


def test_wrong_and_missing_predictions_are_scored_and_counted(tmp_path, bench, mvbench_root, heldout_root):
    lines = [dict(x, answer="zzz") for x in reference_predictions(bench, mvbench_root, heldout_root)]
    dropped = next(x for x in lines if x["question_id"].startswith("m"))  # one held-out answer missing
    lines.remove(dropped)
    res = run(tmp_path, bench, mvbench_root, heldout_root, lines, name="wrong",
              tasks="mvbench_action_sequence,dreamframe_heldout")
    assert res["results"]["mvbench_action_sequence"]["acc,none"] == 0.0
    assert res["results"]["dreamframe_heldout_closed"]["acc,none"] == 0.0
    assert res["dreamframe"]["answers"]["missing"] == 1
    assert sum(t["errors"]["missing_prediction"] for t in res["dreamframe"]["tasks"].values()) == 1


def test_a_bad_predictions_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "p.jsonl"
    bad.write_text('{"question_id": "1", "answer": "x"}\n{"answer": "y"}\n')
    assert main(["--predictions", str(bad), "--tasks", "msvd_qa", "--data-root", str(tmp_path)]) == 2
    assert f"{bad}:2: needs the fields question_id and answer" in capsys.readouterr().err
