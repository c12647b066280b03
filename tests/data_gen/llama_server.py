"""Start llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`) for tests, and say so
when it dies: a test talking to a dead server otherwise fails with the client's "gave up after N
attempts; ConnectError" (issue 22: a build for the wrong CPU crashed it on its first request)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """One `llama_cpp.server` process on a free loopback port, its output in `log_path`."""

    def __init__(self, model: Path, alias: str, log_path: Path, *extra: str) -> None:
        self.alias, self.log_path = alias, log_path
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/v1"
        with log_path.open("w") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model),
                                         "--host", "127.0.0.1", "--port", str(port), "--model_alias", alias,
                                         *extra], stdout=log, stderr=subprocess.STDOUT)

    def death(self) -> str | None:
        """Why the server is gone (its exit code and the tail of its log), None while it runs."""
        code = self.proc.poll()
        if code is None:
            return None
        lines = self.log_path.read_text(errors="replace").splitlines()[-25:] if self.log_path.exists() else []
        tail = "\n".join(lines) or "(empty)"
        return f"llama_cpp.server died (exit {code}); last lines of {self.log_path}:\n{tail}"

    def wait_ready(self, timeout: float = 300) -> None:
        """Block until the server lists the model; fail naming the dead process, or after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=2) as r:
                    if self.alias in r.read().decode():
                        return
            except OSError:
                pass
            if why := self.death():
                pytest.fail(f"while starting: {why}")
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer within {timeout:.0f} s; see {self.log_path}")
            time.sleep(0.5)

    @contextmanager
    def watch(self) -> Iterator[None]:
        """Wrap what talks to the server: if it died meanwhile, fail saying so (the client's own error,
        e.g. a ConnectError, is kept as the cause)."""
        try:
            yield
        except Exception as err:
            if why := self.death():
                raise pytest.fail.Exception(why) from err
            raise
        if why := self.death():
            pytest.fail(why)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
