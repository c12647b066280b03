"""`python -m eval.run` end to end on the tiny model over official-layout fixtures, then re-judged by
an LLM judge behind a real local HTTP server: the model is not run again, the judge is recorded."""

from __future__ import annotations

import json

import yaml

from eval.run import main
from tests.eval.benchmarks import fixtures
from tests.eval.benchmarks.test_http_judge import _Handler, server  # noqa: F401 - fixture


def _results(out):
    path = sorted((out / "tiny-llava_onevision").glob("results_*.json"))[-1]
    return json.loads(path.read_text())


def test_eval_run_tiny_model_then_rejudge_over_http(tmp_path, server):  # noqa: F811
    fixtures.open_qa(tmp_path)
    (tmp_path / "GPT_Zero_Shot_QA" / "Activitynet_Zero_Shot_QA" / "all_test" / "v_vidB.webm").unlink()
    out = tmp_path / "ev"
    argv = ["--model", "tiny-llava_onevision", "--tasks", "activitynet_qa", "--data-root", str(tmp_path),
            "--out", str(out), "--num-frames", "2", "--max-new-tokens", "3", "--batch-size", "3"]
    assert main(argv) == 0
    res = _results(out)
    df = res["dreamframe"]
    task = df["tasks"]["activitynet_qa"]
    assert task["errors"]["missing_video"] == 1  # skipped and counted; the run went on
    assert task["partial"] is True and task["missing"]["videos"] == 1
    assert task["judge"]["name"] == "lexical-f1" and task["judge"]["comparable_to_published"] is False
    assert task["clip"] == {"num_frames": 2, "rule": "linspace_inclusive", "to_model": 2}
    assert res["n-samples"]["activitynet_qa"]["effective"] == 2
    assert "accuracy,none" in res["results"]["activitynet_qa"]

    judge_yaml = tmp_path / "judge.yaml"
    judge_yaml.write_text(yaml.safe_dump({"kind": "llm", "parse_rule": "literal_eval_whole", "llm": {
        "backend": "openai", "base_url": server, "model": "judge-test-2026-01-01", "max_retries": 0, "timeout": 10}}))
    _Handler.garbage_for = ("what is in vidA 2?",)
    assert main([*argv, "--judge", str(judge_yaml)]) == 0
    res2 = _results(out)
    df2 = res2["dreamframe"]
    assert df2["answers"]["generated"] == 0 and df2["answers"]["from_cache"] == 2  # re-judging never re-runs the model
    assert df2["tasks"]["activitynet_qa"]["judge"]["model"] == "judge-test-2026-01-01"
    assert len(_Handler.requests) == 2  # every answer judged once over HTTP
    assert (out / "tiny-llava_onevision" / "judge_cache" / "judge_verdicts.sqlite").is_file()
    # one question (and any empty answer) draws a non-dict reply: counted in the results, the run goes on
    bad = sum(1 for r in _Handler.requests if "Predicted Answer: \n" in r["body"]["messages"][1]["content"]
              or "Question: what is in vidA 2?" in r["body"]["messages"][1]["content"])
    assert df2["tasks"]["activitynet_qa"]["errors"]["judge_unparsable"] == bad >= 1
    # a local server is never the published protocol, whatever its model is called
    assert df2["tasks"]["activitynet_qa"]["judge"]["comparable_to_published"] is False
    assert res2["results"]["activitynet_qa"]["accuracy,none"] >= 0
