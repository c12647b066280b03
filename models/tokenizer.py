"""Offline tokenizers for tiny random-init models: nothing is downloaded, and the dataset's words stay whole.

A byte-level BPE is trained in-process on a built-in English word list plus the text of any dataset
folders given. Every word seen in that corpus ends up as one token (the merge budget is larger than
the corpus needs), so a tiny model learns answers such as "green" or "bridge" as single tokens, while
any other text still round-trips byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dreamframe import vocab

# ChatML, as Qwen2 / LLaVA-OneVision use it. Content is a string or a list of {"type": "video"|"image"|"text"}.
CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'video' %}{{ video_markup }}{% elif part['type'] == 'image' %}<image>\n"
    "{% else %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

BASE_WORDS = """a an the is are was were be been am do does did have has had not no yes and or but because so
to of in on at by for with from into onto over under near behind beside between up down out off about after
before during while when where what which who whom whose why how this that these those it its he she they them
his her their him i you we me my your our there here then than one two three four five six seven eight nine ten
first second third last next many more most some any all each every other same different option options answer
question only give best video clip movie frame frames scene chapter story person people man woman men women boy
girl someone somebody character characters wearing wears wear colour color doing does feel feels felt place
happen happens happened take takes took go goes went come comes came want wants find finds lost see sees saw
look looks looked say says said tell describe detail details whole image picture style generate appear appears
left right middle top bottom front back inside outside together alone first later earlier finally start end
""".split()


def _dataset_text(folder: Path) -> Iterable[str]:
    """Questions, answers, options and movie text of one dataset folder (no dreamframe.dataset import needed)."""
    import pyarrow.parquet as pq

    for part in sorted((folder / "qa").glob("*.parquet")):
        table = pq.read_table(part, columns=["question", "answer", "options"]).to_pylist()
        for row in table:
            yield row["question"]
            yield row["answer"]
            yield " ".join(row.get("options") or [])
    for movie in sorted((folder / "movies").glob("*.json")):
        yield from _strings(json.loads(movie.read_text(encoding="utf-8")))


def _strings(obj: Any) -> Iterable[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def builtin_corpus() -> list[str]:
    words = list(BASE_WORDS) + list(vocab.VERBS) + list(vocab.VERB_ING.values()) + list(vocab.EXPRESSIONS)
    words += list(vocab.GENRE_MIX) + list(vocab.COLOURS) + list(vocab.QA_TYPES) + [str(i) for i in range(100)]
    words += [w.capitalize() for w in words] + list("ABCDEFGH") + ["(A)", "(B)", "(C)", "(D)", "A.", "B.", "C.", "D."]
    return [" ".join(words), vocab.FRAME_TEMPLATE]


def build_tokenizer(special_tokens: list[str], corpus: Iterable[str | Path] = (), vocab_size: int = 4096,
                    chat_template: str = CHATML_TEMPLATE, **template_vars: str):
    """A PreTrainedTokenizerFast trained offline on the built-in words + `corpus` (texts or dataset folders).

    `special_tokens` come first (ids 0..n-1): pad, eos, chat markers and the family's video/image tokens.
    `template_vars` are substituted into the chat template (e.g. video_markup="<video>\\n").
    Training is deterministic, so identical requests within a process share one trained model (copied).
    """
    from transformers import PreTrainedTokenizerFast

    key = (tuple(special_tokens), tuple(str(c) for c in corpus), vocab_size, chat_template,
           tuple(sorted(template_vars.items())))
    if key not in _CACHE:
        _CACHE[key] = _train(special_tokens, corpus, vocab_size, chat_template, **template_vars)
    tok_json, template = _CACHE[key]
    from tokenizers import Tokenizer

    fast = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(tok_json), pad_token=special_tokens[0],
                                   eos_token=special_tokens[1])
    fast.chat_template = template
    fast.padding_side = "right"
    return fast


_CACHE: dict[tuple, tuple[str, str]] = {}


def _train(special_tokens: list[str], corpus: Iterable[str | Path], vocab_size: int, chat_template: str,
           **template_vars: str) -> tuple[str, str]:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    texts = builtin_corpus()
    for item in corpus:
        path = Path(item)
        if isinstance(item, Path) or (len(str(item)) < 4096 and path.is_dir()):
            if not (path / "qa").is_dir():
                raise FileNotFoundError(f"tokenizer corpus folder {path} has no qa/ subfolder (not a dataset folder)")
            texts.extend(_dataset_text(path))
        else:
            texts.append(str(item))
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=1, special_tokens=special_tokens,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    template = chat_template
    for key, value in template_vars.items():
        template = template.replace("{{ " + key + " }}", value)
    return tok.to_str(), template
