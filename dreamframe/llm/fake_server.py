"""A real OpenAI-compatible HTTP server on localhost with scripted replies, for tests and benchmarks.

    with FakeServer(latency=0.05) as srv:          # srv.url = "http://127.0.0.1:PORT/v1"
        srv.script += [{"status": 500}, {"status": 429, "headers": {"Retry-After": "0"}},
                       {"content": "not json", "delay": 0.5}]
        ...                                         # then every request gets `responder(body)`

It speaks /v1/chat/completions over HTTP/1.1 keep-alive from a thread per connection. Scripted
items are served first, in order; then `responder(request_body) -> str` writes the content (the
default fills the schema the request carries, in any dialect, with example values, so structured
calls validate).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Collection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WORDS = ["Amber", "Birch", "Cedar", "Delta", "Ember", "Fjord", "Grove", "Harbor", "Ivory", "Jasper",
         "Kelp", "Lumen", "Maple", "Nectar", "Onyx", "Pebble", "Quartz", "Raven", "Sable", "Tulip"]


def schema_example(schema: dict[str, Any], counter: Callable[[], int], defs: dict[str, Any] | None = None) -> Any:
    """A value that satisfies simple JSON schemas (objects, arrays, enums, strings, numbers)."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return schema_example(defs[schema["$ref"].split("/")[-1]], counter, defs)
    if "enum" in schema:
        return schema["enum"][counter() % len(schema["enum"])]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return schema_example(next(s for s in schema[key] if s.get("type") != "null"), counter, defs)
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: schema_example(v, counter, defs) for k, v in props.items()}
    if kind == "array":
        n = max(schema.get("minItems", 1), 1)
        return [schema_example(schema.get("items", {}), counter, defs) for _ in range(n)]
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return True
    return WORDS[counter() % len(WORDS)]


def request_dialect(body: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """(structured-output dialect of a request, the schema it carries) - see dreamframe/llm/dialects.py."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return "json_schema", fmt["json_schema"]["schema"]
    if fmt.get("type") == "json_object":
        return ("json_object_schema", fmt["schema"]) if "schema" in fmt else ("json_object", None)
    if "structured_outputs" in body:
        return "structured_outputs", body["structured_outputs"]["json"]
    if "guided_json" in body:
        return "guided_json", body["guided_json"]
    if isinstance(body.get("format"), dict):
        return "ollama_format", body["format"]
    return "none", None


def default_responder(body: dict[str, Any]) -> str:
    dialect, schema = request_dialect(body)
    if schema is not None:
        count = itertools.count()
        return json.dumps(schema_example(schema, lambda: next(count)))
    return "{}" if dialect == "json_object" else "ok"


class FakeServer:
    """Context manager running the server in a background thread."""

    def __init__(self, latency: float = 0.0, responder: Callable[[dict[str, Any]], str] = default_responder,
                 accepts: Collection[str] | None = None):
        """`accepts`: the structured-output dialects this server takes (None: all); a request in another
        is answered HTTP 400 naming its field, as vLLM and OpenAI answer fields they do not know."""
        self.latency = latency
        self.responder = responder
        self.accepts = accepts
        self.script: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (~40 ms a request)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                owner.headers.append(dict(self.headers))
                status, headers, payload = owner._answer(self.path, body)
                data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the default listen backlog of 5 resets bursts of connections

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            self.requests.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            item = self.script.pop(0) if self.script else None
        try:
            delay = self.latency + (item or {}).get("delay", 0.0)
            if delay:
                time.sleep(delay)
            if not path.rstrip("/").endswith("/chat/completions"):
                return 404, {}, {"error": {"message": f"no route {path}"}}
            dialect = request_dialect(body)[0]
            if self.accepts is not None and dialect != "none" and dialect not in self.accepts:
                return 400, {}, {"error": {"message": f"structured output dialect {dialect} is not supported"}}
            if item is not None and "status" in item and item["status"] != 200:
                return item["status"], item.get("headers", {}), item.get("body", {"error": {"message": "scripted"}})
            content = item["content"] if item is not None and "content" in item else self.responder(body)
            return 200, {}, {
                "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": sum(len(str(m.get("content", "")).split()) for m in body["messages"]),
                          "completion_tokens": len(content.split())},
            }
        finally:
            with self.lock:
                self.in_flight -= 1
