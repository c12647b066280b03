"""The paper's Stage 1 with an LLM: a movie written top-down in three levels, then checked.

    level 1  genre + premise  -> title, overview, style + ONE style keyword, locations, characters,
                                 l chapters (scene, content, QA)                       1 request
    level 2  per chapter      -> m sub-stories (location, lead, goal, content) + QA    l requests
    level 3  per sub-story    -> n frames (who, verb, expression, object) + dialogue + QA   l*m requests
    verify   per LLM QA pair  -> "supported" / "unsupported" against the story text    one each

Replies are JSON validated against schemas built per movie (data_gen.story.llm_schemas: closed
vocabularies are enums), then checked against the paper's rules (data_gen.story.rules: a title that is
not the style description, real and distinct look-alikes, places that are not people, questions that
are questions...). A reply that breaks the schema or a rule goes back to the model with the reason,
in the client's one repair loop (dreamframe.llm, `max_repairs` turns); a level that still fails
rejects the movie, which is recorded with the rule names and never rendered. What the rules did is
counted per movie (data_gen.story.rule_log). Frame descriptions are not written by the LLM: they are
composed from the structured frame with the paper's template, so every character's look and colour,
the style keyword and the location name appear verbatim in every frame. Near-duplicate QA pairs are
dropped with all-MiniLM-L6-v2.

Many `PlotWriter.write` calls run concurrently against one client (data_gen.story.llm_run stages them).
"""

from __future__ import annotations

import asyncio
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from data_gen.config import GenerateConfig, hash_seed
from data_gen.story import rules
from data_gen.story.llm_schemas import VERIFY_SCHEMA, level1_schema, level2_schema, level3_schema
from data_gen.story.procedural import GOALS, OBJECTS, frame_description
from data_gen.story.qa_dedup import near_duplicates_kept
from data_gen.story.rule_log import RuleLog
from dreamframe.llm import ChatRequest, InvalidReply, LLMClient, StructuredOutputError, validate
from dreamframe.schema import Chapter, Character, DialogueLine, Frame, Movie, QAPair, SubStory
from dreamframe.vocab import COLOURS, EXPRESSIONS, GENRE_MIX, VERBS

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"


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


# -- level-1 clean-up: what a schema cannot say ------------------------------------------------------
def _unique_colours(raw: list[dict[str, Any]], fixes: list[str]) -> list[Character]:
    """Colours must be unique in a movie (grounded QA tells people apart by colour); no text names a colour,
    so a duplicate is recoloured here. Names and look-alikes appear in the text: rules ask the model."""
    chars: list[Character] = []
    used: set[str] = set()
    for c in raw:
        colour = c["colour"]
        if colour in used:
            colour = next(k for k in COLOURS if k not in used)
            fixes.append(f"recoloured {c['name']} from duplicate {c['colour']!r} to {colour!r}")
        used.add(colour)
        chars.append(Character(name=c["name"], gender=c["gender"], lookalike=c["lookalike"].strip(), colour=colour))
    return chars


def _locations(raw: list[str], chapters: list[dict[str, Any]], fixes: list[str]) -> tuple[list[str], list[list[str]]]:
    """Chapter scenes mapped onto the locations (case-insensitive; the rules keep locations distinct),
    unknown ones added."""
    canon = {loc.strip().lower(): loc.strip() for loc in raw}
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


def _character_lines(chars: list[Character]) -> str:
    return "\n".join(f"- {c.name}: {c.phrase}" for c in chars)


class PlotError(RuntimeError):
    """A movie that could not be written; the message names each failed level and its reason.

    `rejected_by`: the rules that rejected a level's last reply; `rejected`: whether the model's replies
    (schema or rules) were the cause, rather than the endpoint; `log`: the movie's rule tally."""

    def __init__(self, message: str, rejected_by: set[str] = frozenset(), rejected: bool = False,
                 log: RuleLog | None = None):
        super().__init__(message)
        self.rejected_by = set(rejected_by)
        self.rejected = rejected
        self.log = log


async def _all(coros: list) -> list[Any]:
    """Run every coroutine to the end (so a rejected movie's record does not depend on timing), then
    raise one PlotError naming every failed level."""
    results = await asyncio.gather(*coros, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, Exception):
            raise r
    errors = [r for r in results if isinstance(r, Exception)]
    if not errors:
        return results
    plot = [e for e in errors if isinstance(e, PlotError)]
    if len(plot) < len(errors):
        raise next(e for e in errors if not isinstance(e, PlotError))
    raise PlotError(" ;; ".join(str(e) for e in plot), set().union(*(e.rejected_by for e in plot)),
                    any(e.rejected for e in plot))


class _Checked:
    """The `check` of one request: the paper's rules on each schema-valid reply (a broken rule goes back
    to the model through the client's repair turn); the rules that fired per turn go to the movie's log."""

    def __init__(self, draft: Callable[[Any], rules.Draft], level: str, log: RuleLog):
        self.draft, self.level, self.log = draft, level, log
        self.fired: list[list[str]] = []

    def __call__(self, parsed: Any) -> Any:
        violations = rules.check(self.draft(parsed))
        self.fired.append([v.rule for v in violations])
        if violations:
            raise InvalidReply(rules.feedback(violations))
        return parsed

    def accepted(self, turns: int) -> None:
        self.log.record(self.level, self.fired, "accepted", turns)

    def failed(self, err: Exception, schema: dict[str, Any]) -> list[str] | None:
        """Log the failure; returns the rules that rejected the last reply ([] when it broke the schema),
        or None when the model is not to blame (the endpoint failed)."""
        rejected_by: list[str] | None = None
        if isinstance(err, StructuredOutputError):
            try:
                validate(err.last_text, schema)
                rejected_by = self.fired[-1] if self.fired else []
            except InvalidReply:
                rejected_by = []
        self.log.record(self.level, self.fired, "error" if rejected_by is None else "rejected",
                        rejected_by=rejected_by or [])
        return rejected_by


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

    async def _ask(self, what: str, level: str, messages: list[dict[str, str]], schema: dict[str, Any],
                   draft: Callable[[Any], rules.Draft], seed: int, tokens: dict[str, int], log: RuleLog) -> Any:
        checked = _Checked(draft, level, log)
        try:
            result = await self.client.achat(messages, schema, check=checked, seed=seed)
        except Exception as err:
            rejected_by = checked.failed(err, schema)
            raise PlotError(f"{what}: {type(err).__name__}: {err}", set(rejected_by or ()), rejected_by is not None) from err
        checked.accepted(result.turns)
        _count(tokens, result)
        return result.parsed

    async def write(self, index: int, movie_id: str) -> tuple[Movie, dict[str, Any]]:
        """One movie and its stats; a PlotError (carrying the rule log) when a level is rejected."""
        log = RuleLog()
        try:
            return await self._write(index, movie_id, log)
        except PlotError as err:
            err.log = log
            if err.rejected:
                log.reject_movie(err.rejected_by)
            raise

    async def _write(self, index: int, movie_id: str, log: RuleLog) -> tuple[Movie, dict[str, Any]]:
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

        outline = await self._ask("level 1 (outline)", "outline", self._prompt(
            "level1", genre=genre, premise=premise, num_locations=cfg.story.locations, num_characters=num_chars,
            colours=", ".join(COLOURS), num_chapters=cfg.story.chapters, qa_per_chapter=cfg.plot.qa_level1),
            level1_schema(cfg, num_chars), rules.outline_draft, seed, tokens, log)
        chars = _unique_colours(outline["characters"], fixes)
        names = [c.name for c in chars]
        locations, scenes = _locations(outline["locations"], outline["chapters"], fixes)
        style = outline["style_keyword"]
        chapter_lines = "\n".join(f"{k + 1}. [{', '.join(s)}] {ch['content']}"
                                  for k, (ch, s) in enumerate(zip(outline["chapters"], scenes)))
        common = dict(title=outline["title"], overview=outline["overview"], characters=_character_lines(chars))

        def frames_draft(sub: dict[str, Any]) -> Callable[[Any], rules.Draft]:
            def draft(raw: dict[str, Any]) -> rules.Draft:
                s = self._substory(style, sub, raw, chars, 0, [])
                return rules.substory_draft(raw, s.frames, s.dialogue, names, locations, style)
            return draft

        async def chapter(k: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            ch = outline["chapters"][k]
            exp = await self._ask(f"level 2 (chapter {k + 1})", "chapter", self._prompt(
                "level2", **common, style_description=outline["style_description"], style_keyword=style,
                locations=", ".join(locations), chapters=chapter_lines, chapter_number=k + 1,
                chapter_content=ch["content"], num_substories=cfg.story.substories, scene=", ".join(scenes[k]),
                names=", ".join(names), qa_per_chapter=cfg.plot.qa_level2),
                level2_schema(cfg, scenes[k], names), lambda r: rules.chapter_draft(r, names, locations),
                seed, tokens, log)
            subs = await _all([self._ask(f"level 3 (chapter {k + 1}, sub-story {j + 1})", "substory", self._prompt(
                "level3", **common, chapter_number=k + 1, chapter_content=ch["content"], substory_number=j + 1,
                place=sub["place"], substory_content=sub["content"], num_frames=cfg.story.frames,
                num_dialogue=cfg.story.dialogue_lines, names=", ".join(names), verbs=", ".join(VERBS),
                expressions=", ".join(EXPRESSIONS), last_frame=cfg.story.frames - 1,
                qa_per_substory=cfg.plot.qa_level3), level3_schema(cfg, names), frames_draft(sub), seed, tokens, log)
                for j, sub in enumerate(exp["substories"])])
            return exp, subs

        expansions = await _all([chapter(k) for k in range(cfg.story.chapters)])
        chapters, qa_raw, contexts = self._chapters(outline, expansions, scenes, style, chars, fixes)
        stats: dict[str, Any] = {"genre": genre, "premise": premise, "model": self.client.model_id,
                                 "llm_qa_written": len(qa_raw),
                                 "dropped": {"verifier": 0, "verifier_error": 0, "dedup": 0}, "fixes": fixes}
        qa_raw = await self._kept_qa(qa_raw, contexts, seed, stats, tokens, log)
        qa = [QAPair(id=f"{movie_id}-l{i:03d}", **q) for i, q in enumerate(qa_raw)]
        movie = Movie(id=movie_id, title=outline["title"].strip(), genre=genre, overview=outline["overview"].strip(),
                      tone=outline["tone"].strip(), style_description=outline["style_description"].strip(),
                      style_keyword=style, characters=chars, locations=locations, chapters=chapters, qa=qa,
                      source={"story": "llm", "llm_backend": self.client.backend, "llm_model": self.client.model_id})
        stats["llm_qa_kept"] = len(qa)
        price = (tokens["prompt_tokens"] * cfg.llm.price_input_per_mtok
                 + tokens["completion_tokens"] * cfg.llm.price_output_per_mtok) / 1e6
        stats["llm"] = {**tokens, "cost_usd": round(price, 6)}  # what writing it cost, cache hits included
        stats["rule_log"] = log.as_dict()
        return movie, stats

    def _chapters(self, outline: dict[str, Any], expansions: list, scenes: list[list[str]], style: str,
                  chars: list[Character], fixes: list[str]) -> tuple[list[Chapter], list[dict[str, Any]], list[str]]:
        """The chapters from the outline and each chapter's (level-2 expansion, level-3 sub-stories), with
        every QA pair of levels 1-3 over its frame span and the text it was asked about (for the verifier)."""
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
        return chapters, qa_raw, contexts

    async def _kept_qa(self, qa_raw: list[dict[str, Any]], contexts: list[str], seed: int, stats: dict[str, Any],
                       tokens: dict[str, int], log: RuleLog) -> list[dict[str, Any]]:
        """The QA pairs the verifier keeps (cfg.plot.verify_qa), less near duplicates; counts the drops in stats."""
        cfg = self.cfg
        if cfg.plot.verify_qa and qa_raw:
            keep = await self._verify(qa_raw, contexts, seed, stats, tokens, log)
            qa_raw = [q for q, k in zip(qa_raw, keep) if k]
        if qa_raw and cfg.plot.dedup_threshold < 1:
            keep = await asyncio.to_thread(near_duplicates_kept, [f"{q['question']} {q['answer']}" for q in qa_raw],
                                           cfg.plot.dedup_threshold, cfg.plot.embedding_model)
            stats["dropped"]["dedup"] = keep.count(False)
            qa_raw = [q for q, k in zip(qa_raw, keep) if k]
        return qa_raw

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
                      tokens: dict[str, int], log: RuleLog) -> list[bool]:
        checks = [_Checked(lambda r, q=q, ctx=ctx: rules.verdict_draft(r, q["answer"], ctx), "verify", log)
                  for q, ctx in zip(qa, contexts)]
        reqs = [ChatRequest(self._prompt("verify", context=ctx, question=q["question"], answer=q["answer"]),
                            VERIFY_SCHEMA, {"seed": seed, "temperature": 0.0}, check)
                for q, ctx, check in zip(qa, contexts, checks)]
        replies = await self.client.achat_many(reqs)
        keep = []
        for r, check in zip(replies, checks):
            if isinstance(r, Exception):  # a QA pair whose check failed is dropped; the movie stays
                check.failed(r, VERIFY_SCHEMA)
                stats["dropped"]["verifier_error"] += 1
                keep.append(False)
            else:
                check.accepted(r.turns)
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
