"""Per-GPU memory of a training config under ZeRO 0/1/2/3, with and without CPU offload and
activation checkpointing - before renting the GPUs.

    python -m training.plan --config configs/train/dreamframe_7b_llava_ov.yaml
    python -m training.plan --config configs/train/tiny_cpu.yaml --devices 8 --num_nodes 2 --format json

Parameter counts come from the model config instantiated on the meta device (no weights): a local
folder's config.json, a bundled copy of the config for the known 7B hub ids (models/hub_configs/),
or the tiny random-init config. Model-state bytes follow DeepSpeed's own accounting (its
`estimate_zero2/3_model_states_mem_needs`, printed beside ours), refined for frozen parts and LoRA:
frozen weights cost only their 16-bit copy. Activations are an estimate for the LLM (bf16, flash /
memory-efficient attention, i.e. no seq^2 term) plus the logits of the answer tokens and their fp32
loss copies.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from models.base import LoraConfig
from training.config import TrainConfig

GIB = 1024 ** 3
HUB_CONFIGS = Path(__file__).resolve().parent.parent / "models" / "hub_configs"


@dataclass
class PlanConfig(TrainConfig):
    """A training config (same YAML as `python -m training.train`) plus what the plan needs."""

    seq_len: int | None = None
    """Tokens per sample for the activation estimate; None = model.max_length."""
    gpu_memory_gb: float = 80.0
    """Memory of one GPU (GiB) for the `fits` column (H100/A100-80GB: 80)."""
    answer_tokens: int = 64
    """Supervised (assistant) tokens per sample: the training loss computes logits for these only."""
    format: Literal["table", "json"] = "table"
    """Print a table or one JSON document."""


@dataclass
class Counts:
    total: int
    trainable: int
    largest_layer: int
    hidden: int
    kv_hidden: int
    intermediate: int
    layers: int
    vocab: int


def model_config(model: Any) -> Any:
    """The transformers config of `model` (a ModelConfig): local folder, bundled hub config, or tiny."""
    from transformers import AutoConfig

    from models.registry import adapter_class

    if model.path:
        folder = Path(model.path)
        if folder.is_dir():
            return AutoConfig.from_pretrained(folder, trust_remote_code=model.trust_remote_code)
        bundled = HUB_CONFIGS / (model.path.replace("/", "__") + ".json")
        if bundled.is_file():
            data = json.loads(bundled.read_text(encoding="utf-8"))
            data.pop("_source", None)
            return AutoConfig.for_model(**data)
        raise FileNotFoundError(f"model.path={model.path!r} is neither a local folder nor one of the bundled configs "
                                f"({sorted(p.stem.replace('__', '/') for p in HUB_CONFIGS.glob('*.json'))}); "
                                "download its config.json and point model.path at the folder")
    cls = adapter_class(model.family)
    from models.tokenizer import build_tokenizer

    tiny = model.tiny
    tok = build_tokenizer(cls.special_tokens, tiny.corpus, tiny.vocab_size)
    return cls.tiny_config(tok, tiny, cls.tiny_spec(tiny))


def count(model: Any, config: Any = None) -> Counts:
    """Total / trainable / largest-layer parameter counts from a meta-device model (no memory used);
    `config`: a transformers config to count instead of `model`'s (e.g. fewer layers)."""
    import torch
    import transformers

    from models.registry import adapter_class

    cls = adapter_class(model.family)
    config = config or model_config(model)
    with torch.device("meta"):
        net = getattr(transformers, cls.model_class)._from_config(config)
    probe = cls.__new__(cls)  # only for part_of / unused_keys, which read class data and the config
    probe.model = net
    params = dict(net.named_parameters())
    unused = tuple(probe.unused_keys)
    lora_targets = _lora_modules(net, model.lora) if model.lora else {}
    trainable = 0
    for name, p in params.items():
        part = probe.part_of(name)
        if any(k in name for k in unused) or part in model.freeze or (model.lora and part == "llm"):
            continue
        trainable += p.numel()
    trainable += sum(lora_targets.values())
    largest = max(sum(p.numel() for p in m.parameters(recurse=False)) for m in net.modules())
    text = config.get_text_config()
    hidden = text.hidden_size
    heads = text.num_attention_heads
    kv = getattr(text, "num_key_value_heads", None) or heads
    return Counts(total=sum(p.numel() for p in params.values()), trainable=trainable, largest_layer=largest,
                  hidden=hidden, kv_hidden=hidden // heads * kv, intermediate=text.intermediate_size,
                  layers=text.num_hidden_layers, vocab=text.vocab_size)


def _lora_modules(net: Any, lora: LoraConfig) -> dict[str, int]:
    """LoRA parameters per targeted Linear (peft rules: a string is a full-match regex, a list matches suffixes)."""
    import torch

    targets, r = lora.peft_kwargs()["target_modules"], lora.r
    out = {}
    for name, mod in net.named_modules():
        if not isinstance(mod, torch.nn.Linear):
            continue
        hit = re.fullmatch(targets, name) if isinstance(targets, str) else any(
            name == t or name.endswith("." + t) for t in targets)
        if hit:
            out[name] = r * (mod.in_features + mod.out_features)
    return out


def model_states(c: Counts, stage: int, gpus: int, offload_optimizer: bool, offload_params: bool,
                 weight_bytes: int = 2) -> float:
    """Bytes per GPU for weights, gradients and Adam states (DeepSpeed's accounting, frozen-aware).

    Trainable parameters cost 2 (16-bit weight) + 18 (2 16-bit grad + 4 fp32 grad + 4 fp32 master
    + 8 Adam m, v) bytes; ZeRO-1/2/3 shard the optimizer side, ZeRO-3 also the weights and keeps
    the largest layer gathered (4 bytes/param). Stage 0 = plain DDP: with fp32 weights (32-true /
    *-mixed) 4 + 4 grad + 8 Adam bytes per trainable parameter; with bf16-true weights, grads and
    Adam states all 16-bit.
    """
    n, t = c.total, c.trainable
    if stage == 0:
        return 4 * n + 12 * t if weight_bytes == 4 else 2 * n + 6 * t
    if stage in (1, 2):
        if offload_optimizer:
            return 2 * n
        return 2 * n + (2 * t if stage == 1 else 0) + (18 * t if stage == 2 else 16 * t) / gpus
    layer = 4 * c.largest_layer
    if offload_params:
        return layer
    if offload_optimizer:
        return layer + 2 * n / gpus
    return layer + (2 * (n - t) + 18 * t) / gpus


def activations(c: Counts, batch: int, seq: int, checkpointing: bool, answer_tokens: int | None = None) -> float:
    """Bytes of LLM activations kept for backward (bf16) plus logits with their fp32 loss copies - of the
    `answer_tokens` supervised positions per sample only (the training loss computes no other logits;
    None: every position)."""
    per_layer = seq * batch * (14 * c.hidden + 4 * c.kv_hidden + 8 * c.intermediate)
    kept = (2 * seq * batch * c.hidden * c.layers + per_layer) if checkpointing else per_layer * c.layers
    return kept + 10 * min(seq, answer_tokens or seq) * batch * c.vocab


def deepspeed_estimate(c: Counts, stage: int, gpus_per_node: int, nodes: int, offload_optimizer: bool,
                       offload_params: bool) -> float | None:
    """DeepSpeed's own GPU estimate (all parameters trainable), for comparison; None for stages it lacks
    or when deepspeed (the `gpu`/`dev` extra) is not installed."""
    import importlib.util

    if importlib.util.find_spec("deepspeed") is None:
        return None
    if stage == 2:
        from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

        return estimate_zero2_model_states_mem_needs(c.total, gpus_per_node, nodes, cpu_offload=offload_optimizer)[1]
    if stage == 3:
        from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs

        return estimate_zero3_model_states_mem_needs(c.total, c.largest_layer, gpus_per_node, nodes,
                                                     cpu_offload=offload_optimizer or offload_params,
                                                     cpu_offload_params=offload_params)[1]
    return None


def plan(cfg: PlanConfig) -> dict[str, Any]:
    if not isinstance(cfg.devices, int) and not str(cfg.devices).isdigit():
        raise ValueError(f"devices={cfg.devices!r}: give the number of GPUs per node (e.g. --devices 8) to plan")
    gpus_per_node, nodes = int(cfg.devices), int(cfg.num_nodes)
    gpus = gpus_per_node * nodes
    c = count(cfg.model)
    seq = cfg.seq_len or cfg.model.max_length
    batch = cfg.data.batch_size
    weight_bytes = 4 if cfg.precision in ("32-true", "bf16-mixed", "16-mixed") else 2
    rows = []
    for stage in (0, 1, 2, 3):
        offloads = [(False, False)] + ([(True, False)] if stage >= 1 else []) + ([(True, True)] if stage == 3 else [])
        for off_opt, off_par in offloads:
            states = model_states(c, stage, gpus, off_opt, off_par, weight_bytes if stage == 0 else 2)
            ds = deepspeed_estimate(c, stage, gpus_per_node, nodes, off_opt, off_par)
            for ckpt in (False, True):
                act = activations(c, batch, seq, ckpt, cfg.answer_tokens)
                total = states + act
                rows.append({"zero_stage": stage, "offload_optimizer": off_opt, "offload_params": off_par,
                             "activation_checkpointing": ckpt, "model_states_gib": states / GIB,
                             "deepspeed_model_states_gib": None if ds is None else ds / GIB,
                             "activations_gib": act / GIB, "total_gib": total / GIB,
                             "fits": total / GIB <= cfg.gpu_memory_gb})
    return {"model": cfg.model.path or f"tiny-{cfg.model.family}", "family": cfg.model.family,
            "params_total": c.total, "params_trainable": c.trainable, "largest_layer_params": c.largest_layer,
            "gpus_per_node": gpus_per_node, "num_nodes": nodes, "micro_batch": batch, "seq_len": seq,
            "gpu_memory_gib": cfg.gpu_memory_gb, "rows": rows}


def render(result: dict[str, Any]) -> str:
    lines = [f"{result['model']} ({result['family']}): {result['params_total'] / 1e9:.3f}B params, "
             f"{result['params_trainable'] / 1e9:.3f}B trainable, largest layer {result['largest_layer_params'] / 1e6:.1f}M",
             f"{result['num_nodes']} node(s) x {result['gpus_per_node']} GPU(s), micro-batch {result['micro_batch']}, "
             f"{result['seq_len']} tokens/sample, GPU {result['gpu_memory_gib']:.0f} GiB",
             f"{'ZeRO':>4} {'offload':>9} {'ckpt':>5} {'states':>8} {'(DS est)':>9} {'activ.':>8} {'total':>8}  fits"]
    for r in result["rows"]:
        off = "opt+param" if r["offload_params"] else ("opt" if r["offload_optimizer"] else "-")
        ds = r["deepspeed_model_states_gib"]
        lines.append(f"{r['zero_stage']:>4} {off:>9} {'yes' if r['activation_checkpointing'] else 'no':>5} "
                     f"{r['model_states_gib']:>8.1f} {'' if ds is None else f'{ds:.1f}':>9} "
                     f"{r['activations_gib']:>8.1f} {r['total_gib']:>8.1f}  {'yes' if r['fits'] else 'NO'}")
    lines.append("GiB per GPU. states: weights + grads + Adam (frozen parts: 16-bit weights only); "
                 "DS est: DeepSpeed's estimator, all params trainable; activations: LLM + logits, estimate.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from dreamframe.config import parse_config

    cfg = parse_config(PlanConfig, argv, prog="python -m training.plan",
                       description="Per-GPU memory of a training config under ZeRO 0-3, offload and checkpointing.")
    result = plan(cfg)
    print(json.dumps(result, indent=2) if cfg.format == "json" else render(result))


if __name__ == "__main__":
    main()
