"""A real HTTP server on 127.0.0.1 that answers chat requests badly on purpose: one byte a second
(a drip no per-read timeout ends), or a 100 MB reply. It counts what it received and what it managed
to send, so a test can tell whether the client read the whole reply or sent it back."""

from __future__ import annotations

import socketserver
import threading
import time
from typing import Any

HUGE_PREFIX = b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": "'
HUGE_SUFFIX = b'"}}], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}'


class HostileServer:
    """`mode`: "drip" (headers, then one body byte a second for `drip_s` seconds), "huge" (a `size`-byte
    chat completion, chunked, no length given) or "huge_declared" (the same with its Content-Length)."""

    def __init__(self, mode: str, size: int = 100_000_000, drip_s: float = 8.0):
        self.mode, self.size, self.drip_s = mode, size, drip_s
        self.request_sizes: list[int] = []
        self.sent = 0
        self._server: socketserver.ThreadingTCPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> HostileServer:
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                length = 0
                while (line := self.rfile.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                owner.request_sizes.append(len(self.rfile.read(length)))
                try:
                    owner._reply(self.wfile)
                except OSError:  # the client hung up: what a refusal looks like from here
                    pass

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def _send(self, out: Any, data: bytes) -> None:
        out.write(data)
        out.flush()
        self.sent += len(data)

    def _reply(self, out: Any) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        if self.mode == "drip":
            self._send(out, head + b"Content-Length: 100000\r\n\r\n")
            end = time.monotonic() + self.drip_s
            while time.monotonic() < end:
                self._send(out, b" ")
                time.sleep(1.0)
            return
        body_len = self.size + len(HUGE_PREFIX) + len(HUGE_SUFFIX)
        chunked = self.mode == "huge"
        self._send(out, head + (b"Transfer-Encoding: chunked\r\n\r\n" if chunked else
                                f"Content-Length: {body_len}\r\n\r\n".encode()))
        block = b"x" * (1 << 20)
        parts = [HUGE_PREFIX, *[block] * (self.size // len(block)), b"x" * (self.size % len(block)), HUGE_SUFFIX]
        for part in filter(None, parts):  # an empty chunk would end a chunked body
            self._send(out, b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
        if chunked:
            self._send(out, b"0\r\n\r\n")
