"""The LLM judge against a REAL local OpenAI-compatible HTTP server started by the test."""

import dataclasses
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dreamframe.llm.config import LLMConfig
from eval.judges import JudgeConfig, build_judge
from eval.tasks.open_qa.scoring import score_open_qa
from eval.tasks.tempcompass.scoring import score_tempcompass


class _Handler(BaseHTTPRequestHandler):
    requests: list[dict] = []
    garbage_for: tuple[str, ...] = ()
    """Questions this judge answers with a non-dict reply."""

    def do_POST(self):  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        user = body["messages"][-1]["content"]
        if "Correct Answer:" in user:
            ref = re.search(r"Correct Answer: (.*)\n", user).group(1)
            pred = re.search(r"Predicted Answer: (.*)\n", user).group(1)
            question = re.search(r"Question: (.*)\n", user).group(1)
            reply = ("Sorry, I cannot judge that." if "GARBAGE" in pred or not pred.strip() or question in self.garbage_for
                     else str({"pred": "yes" if pred == ref else "no", "score": 5 if pred == ref else 1}))
        else:  # a TempCompass fallback prompt
            reply = "Correct" if "Model Prediction: running" in user else "Incorrect"
        data = json.dumps({"id": "x", "object": "chat.completion", "model": body["model"],
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                                        "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    _Handler.requests, _Handler.garbage_for = [], ()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def _cfg(url, tmp_path, model="judge-test-2026-01-01"):
    return JudgeConfig(kind="llm", cache_dir=str(tmp_path / "verdicts"),
                       llm=LLMConfig(backend="openai", base_url=url, model=model, temperature=0.0, max_tokens=64,
                                     response_format="none", max_retries=0, timeout=10))


def test_http_judge_parses_verdicts_counts_non_dict_and_caches(server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-logged")
    items = [{"question": "What?", "answer": "a red car", "pred": "a red car", "type": 0},
             {"question": "Is it?", "answer": "yes", "pred": "no", "type": 3},
             {"question": "How many?", "answer": "two", "pred": "GARBAGE", "type": 7}]
    judge = build_judge(_cfg(server, tmp_path))
    out = score_open_qa(judge, items, "activitynet_qa")
    assert (out["yes"], out["no"], out["judge_unparsable"]) == (1, 1, 1)  # the run went on past the bad reply
    assert out["accuracy"] == 50.0 and out["score"] == 3.0
    assert out["per_type"]["number"]["accuracy"] is None
    sent = _Handler.requests
    assert len(sent) == 3 and sent[0]["path"] == "/v1/chat/completions"
    assert sent[0]["body"]["model"] == "judge-test-2026-01-01" and sent[0]["body"]["temperature"] == 0.0
    assert sent[0]["auth"] == "Bearer sk-test-not-logged"
    assert sent[0]["body"]["messages"][1]["content"].startswith("Please evaluate the following video-based")
    rec = judge.record(("activitynet_qa",))
    assert rec["model"] == "judge-test-2026-01-01" and rec["comparable_to_published"] is False
    assert "sk-test" not in json.dumps(rec)

    # re-judging (e.g. with another parse rule) is served from the verdict cache: no new requests
    again = build_judge(dataclasses.replace(_cfg(server, tmp_path), parse_rule="first_braces"))
    out2 = score_open_qa(again, items, "activitynet_qa")
    assert len(_Handler.requests) == 3 and (tmp_path / "verdicts" / "judge_verdicts.sqlite").is_file()
    assert (out2["no"], out2["judge_unparsable"]) == (2, 1)  # lmms-eval rule: unparsable counts as no/0
    # a local server whose model calls itself the pinned snapshot is still not the published protocol
    local = build_judge(_cfg(server, tmp_path, model="gpt-3.5-turbo-0125")).record(("activitynet_qa",))
    assert local["comparable_to_published"] is False


def test_http_judge_as_tempcompass_fallback(server, tmp_path):
    docs = [{"format": "multi-choice", "dim": "action", "fine_dim": "x", "question": "Doing?\nA. cooking\nB. running",
             "answer": "B. running", "pred": p} for p in ("B", "running", "cooking")]
    out = score_tempcompass(build_judge(_cfg(server, tmp_path)), docs)
    assert len(_Handler.requests) == 2  # the rule matched the first; the judge saw only the other two
    assert [v["rating"] for v in out["per_item"].values()] == [1, 1, 0] and out["match_rate"] == pytest.approx(100 / 3)


def test_judge_server_down_is_counted_not_fatal(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    judge = build_judge(_cfg(f"http://127.0.0.1:{port}/v1", tmp_path))
    out = score_open_qa(judge, [{"question": "q", "answer": "a", "pred": "a", "type": 0}], "activitynet_qa")
    assert out["judge_unparsable"] == 1 and out["accuracy"] is None
    assert judge.failures and "127.0.0.1" in judge.failures[0]
