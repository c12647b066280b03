"""An API key, even one pasted with its newline, never reaches a file, a log or an error text."""

from pathlib import Path

from data_gen.generate import main
from dreamframe.llm.fake_server import FakeServer
from dreamframe.llm.secrets import redact
from tests.conftest import REPO
from tests.data_gen.test_plot import Screenwriter

KEY = "sk-test-SECRET-4242"


def run(out: Path, srv: FakeServer, cache: Path) -> int:
    return main(["--config", str(REPO / "configs/data_gen/tiny.yaml"), "--out", str(out), "--num-movies", "1",
                 "--story.backend", "llm", "--llm.backend", "openai", "--llm.base_url", srv.url, "--llm.model", "fake",
                 "--llm.api_key_env", "DF_SECRET_KEY", "--llm.cache", str(cache), "--plot.verify_qa", "false", "--plot.dedup_threshold", "1"])


def test_key_with_a_newline_is_stripped_and_never_written_or_printed(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DF_SECRET_KEY", KEY + "\n")
    with FakeServer(responder=Screenwriter()) as srv:
        assert run(tmp_path / "ok", srv, tmp_path / "ok.sqlite") == 0
        assert {h["Authorization"] for h in srv.headers} == {f"Bearer {KEY}"}
    with FakeServer() as srv:  # a server that echoes the key in its error, as some proxies do
        srv.script += [{"status": 401, "body": {"error": {"message": f"invalid key {KEY}\n"}}}] * 20
        assert run(tmp_path / "refused", srv, tmp_path / "refused.sqlite") == 1
    captured = capsys.readouterr()
    assert "HTTP 401" in captured.err and "***" in captured.err
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "manifest.json" for p in files) and any(p.suffix == ".sqlite" for p in files)
    leaks = [str(p) for p in files if KEY.encode() in p.read_bytes()]
    assert leaks == [] and KEY not in captured.out + captured.err


def test_redact_covers_the_escaped_forms():
    key = KEY + "\n"
    assert redact(f"Illegal header value b'Bearer {key!r}' / {key} / {KEY}", key).count(KEY) == 0
    assert redact("nothing secret", "") == "nothing secret"
