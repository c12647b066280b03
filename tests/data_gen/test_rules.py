"""The paper's Stage-1 rules, each fired by a scripted bad reply through the real HTTP client and a
loopback server (`python -m data_gen.generate`), quiet on good replies, repaired through the client's
repair turn, counted in the manifest; and the real SmolLM2 writer, whose accepted movies pass them all."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from data_gen.generate import main
from data_gen.story.rules import RULE_NAMES, audit_movie
from dreamframe.dataset import DatasetFolder
from dreamframe.llm.fake_server import FakeServer
from tests.data_gen.screenwriter import Screenwriter, is_repair

REPO = Path(__file__).resolve().parents[2]
SMALL = ["--story.chapters", "1", "--story.substories", "1", "--story.frames", "3", "--story.character_weights",
         "[0, 1]", "--plot.dedup_threshold", "1", "--llm.max_repairs", "1", "--num-movies", "1"]


def run(out: Path, srv: FakeServer) -> int:
    return main(["--config", str(REPO / "configs/data_gen/tiny.yaml"), "--out", str(out), "--story.backend", "llm",
                 "--llm.backend", "openai", "--llm.base_url", srv.url, "--llm.model", "fake", *SMALL])


def qa0(reply: dict) -> dict:
    return reply["chapters"][0]["qa"][0] if "chapters" in reply else reply["qa"][0]


# rule -> (the level whose reply is spoiled, how): each spoils one thing, so only that rule may fire
BAD = {
    "title_not_style": ("movie_outline", lambda r: r.update(title="Deep Shadows and Candle Light")),
    "style_keyword": ("movie_outline", lambda r: r.update(style_keyword="Zebra")),
    "location_words": ("movie_outline", lambda r: r["locations"].__setitem__(1, "Mary's house")),
    "location_is_place": ("movie_outline", lambda r: r["locations"].__setitem__(1, r["characters"][1]["name"])),
    "distinct_locations": ("movie_outline", lambda r: r["locations"].__setitem__(1, r["locations"][0])),
    "distinct_names": ("movie_outline", lambda r: r["characters"][1].update(name=r["characters"][0]["name"])),
    "distinct_lookalikes": ("movie_outline",
                            lambda r: r["characters"][1].update(lookalike=r["characters"][0]["lookalike"])),
    "lookalike_is_actor": ("movie_outline", lambda r: r["characters"][0].update(lookalike="Famous Actor")),
    "goal_is_action": ("chapter_expansion", lambda r: r["substories"][0].update(goal=r["substories"][0]["lead"].lower())),
    "frame_template": ("substory_frames",
                       lambda r: r["frames"][0].update(verb="hold", object=r["frames"][1]["characters"][0].lower())),
    "dialogue_speaker": ("substory_frames",  # the line of one character, labelled with the other's name
                         lambda r: r["dialogue"][0].update(text=f"{r['frames'][1]['characters'][0]}: Run, now!")),
    "qa_question": ("movie_outline", lambda r: qa0(r).update(qa_type="what", question="What is Anna?")),
    "qa_answer": ("chapter_expansion", lambda r: qa0(r).update(answer=qa0(r)["question"])),
    "qa_type": ("substory_frames", lambda r: qa0(r).update(qa_type="how")),
    "no_placeholder": ("movie_outline",
                       lambda r: r.update(overview="A man/woman who looks like a well-known actor finds a letter.")),
    "no_loop": ("movie_outline", lambda r: r.update(overview="Anna sails on " + "in the dark and stormy night, " * 3)),
    "verify_evidence": ("qa_verdict", lambda r: r.update(evidence="none", verdict="supported")),
}


def spoiler(rule: str):
    level, spoil = BAD[rule]
    return lambda title, reply, body: spoil(reply) if title == level else None


def test_every_rule_has_a_bad_reply():
    assert set(BAD) == set(RULE_NAMES)


def test_good_replies_pass_every_rule_and_the_movie_is_accepted(tmp_path):
    out = tmp_path / "ds"
    with FakeServer(responder=Screenwriter()) as srv:
        assert run(out, srv) == 0
    folder = DatasetFolder(out)
    plot = folder.manifest()["plot"]
    assert all(counts["fired"] == 0 for counts in plot["rules"].values()), plot["rules"]
    assert set(plot["rules"]) == set(RULE_NAMES)
    assert plot["acceptance"] == {"fake": {"attempted": 1, "accepted": 1, "acceptance_rate": 1.0}}
    assert plot["levels"]["outline"]["accepted_first_turn"] == 1 and plot["levels"]["verify"]["requests"] > 0
    (movie,) = folder.movies()
    assert audit_movie(movie) == []  # the finished movie, grounded QA included, passes the same rules


@pytest.mark.parametrize("rule", [r for r in RULE_NAMES if r != "verify_evidence"])
def test_a_rule_that_still_fails_after_repair_rejects_the_movie_with_its_name(tmp_path, rule):
    out = tmp_path / "ds"
    with FakeServer(responder=Screenwriter(spoiler(rule))) as srv:
        assert run(out, srv) == 1
        repairs = [b for b in srv.requests if is_repair(b)]
    manifest = DatasetFolder(out).manifest()
    (mid, reason), = manifest["failures"].items()
    assert f"[{rule}]" in reason and "semantic rules failed" in reason
    plot = manifest["plot"]
    assert plot["rules"][rule] == {"fired": 2, "repaired": 0, "rejected_level": 1, "rejected_movie": 1}
    assert [r for r, c in plot["rules"].items() if c["fired"]] == [rule]  # the rest stay quiet on the good parts
    assert plot["rejected"] == {mid: [rule]}
    assert plot["acceptance"]["fake"] == {"attempted": 1, "accepted": 0, "acceptance_rate": 0.0}
    assert manifest["counts"]["movies"] == 0 and not (out / "frames" / mid).exists()  # never rendered
    (repair,) = repairs  # the reason went back to the model once (max_repairs 1), naming the rule
    assert f"[{rule}]" in repair["messages"][-1]["content"]


def test_a_failed_verdict_drops_its_qa_pair_not_the_movie(tmp_path):
    out = tmp_path / "ds"
    with FakeServer(responder=Screenwriter(spoiler("verify_evidence"))) as srv:
        assert run(out, srv) == 0
    plot = DatasetFolder(out).manifest()["plot"]
    n = plot["levels"]["verify"]["requests"]
    assert n > 0 and plot["rules"]["verify_evidence"] == {"fired": 2 * n, "repaired": 0, "rejected_level": n,
                                                          "rejected_movie": 0}
    assert plot["dropped"]["verifier_error"] == n and plot["llm_qa_kept"] == 0


@pytest.mark.parametrize("rule", ["lookalike_is_actor", "qa_answer", "frame_template", "verify_evidence"])
def test_a_repaired_reply_is_accepted_and_counted(tmp_path, rule):
    out = tmp_path / "ds"
    with FakeServer(responder=Screenwriter(spoiler(rule), first_turn_only=True)) as srv:
        assert run(out, srv) == 0
    plot = DatasetFolder(out).manifest()["plot"]
    counts = plot["rules"][rule]
    assert counts["fired"] == counts["repaired"] >= 1 and counts["rejected_level"] == counts["rejected_movie"] == 0
    assert sum(lv["accepted_after_repair"] for lv in plot["levels"].values()) == counts["repaired"]
    (movie,) = DatasetFolder(out).movies()
    assert audit_movie(movie) == []


def test_rejection_is_kept_across_runs_and_cleared_when_accepted(tmp_path):
    out = tmp_path / "ds"
    with FakeServer(responder=Screenwriter(spoiler("title_not_style"))) as srv:
        assert run(out, srv) == 1
    record = json.loads(next((out / "stories").glob("*.rejected.json")).read_text())
    assert record["model"] == "fake" and record["rejected_by"] == ["title_not_style"]
    with FakeServer(responder=Screenwriter()) as srv:  # a rerun retries the movie (new replies: no cache hit)
        main(["--config", str(REPO / "configs/data_gen/tiny.yaml"), "--out", str(out), "--story.backend", "llm",
              "--llm.backend", "openai", "--llm.base_url", srv.url, "--llm.model", "fake", *SMALL,
              "--llm.cache", str(tmp_path / "other_cache.sqlite")])
    manifest = DatasetFolder(out).manifest()
    assert not list((out / "stories").glob("*.rejected.json")) and manifest["counts"]["movies"] == 1
    assert manifest["plot"]["rejected"] == {} and manifest["plot"]["acceptance"]["fake"]["accepted"] == 1


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DREAMFRAME_SLOW") != "1",
                    reason="~2.5 min of SmolLM2 on 2 cores (tests/data_gen/test_llama_cpp_server.py runs it per CI); "
                           "set DREAMFRAME_SLOW=1")
@pytest.mark.timeout(1800)  # ~2 min on an idle 2-core box; a loaded one is many times slower
def test_smollm2_writer_accepts_only_movies_that_pass_every_rule(tmp_path):
    """The real offline writer on a one-chapter, one-sub-story movie: what it accepts passes every rule
    (audited again on the finished movie); what it does not is rejected with rule names, never rendered.
    max_tokens covers the schema's text caps (the grammar closes a string at its cap, even in a loop),
    so the outline is always complete JSON and the rules, not a cut-off, judge it."""
    out = tmp_path / "ds"
    rc = main(["--config", str(REPO / "configs/data_gen/smollm2.yaml"), "--out", str(out), "--story.chapters", "1",
               "--story.substories", "1", "--story.frames", "2", "--story.locations", "2", "--story.dialogue_lines", "1",
               "--story.character_weights", "[1]", "--plot.dedup_threshold", "1", "--llm.max_tokens", "700",
               "--llm.max_repairs", "0"])  # repairs are tested against the loopback server; this bounds the time
    folder = DatasetFolder(out)
    manifest = folder.manifest()
    plot = manifest["plot"]
    (model,) = plot["acceptance"]
    assert model.endswith(".gguf") and plot["acceptance"][model]["attempted"] == 1
    assert plot["levels"]["outline"]["rejected_by_schema"] == 0, manifest["failures"]
    if rc == 0:
        (movie,) = folder.movies()
        assert movie.source["story"] == "llm" and len(folder.frame_paths(movie.id)) == movie.num_frames == 2
        assert audit_movie(movie) == []
        assert plot["acceptance"][model]["accepted"] == 1
    else:
        (mid, reason), = manifest["failures"].items()
        assert manifest["counts"]["movies"] == 0 and not (out / "frames" / mid).exists()
        by_rules = sorted(r for r, c in plot["rules"].items() if c["rejected_movie"])
        assert plot["rejected"][mid] == by_rules and all(f"[{r}]" in reason for r in by_rules)
        assert by_rules or "semantic rules failed" not in reason  # no rule named: a later level broke the schema
    assert manifest["llm_usage_last_run"]["requests"] > 0


def test_dataset_report_shows_rule_counts_and_acceptance(tmp_path):
    from data_gen.report import ReportConfig, build

    first: list[str] = []

    def spoil_one_movie(title, reply, body):  # every turn of the first movie's outline breaks title_not_style
        prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
        if title == "movie_outline" and (first or first.append(prompt) or True) and prompt == first[0]:
            reply.update(title="Deep Shadows and Candle Light")

    out = tmp_path / "ds"
    with FakeServer(responder=Screenwriter(spoil_one_movie)) as srv:
        main(["--config", str(REPO / "configs/data_gen/tiny.yaml"), "--out", str(out), "--story.backend", "llm",
              "--llm.backend", "openai", "--llm.base_url", srv.url, "--llm.model", "fake", *SMALL, "--num-movies", "2"])
    summary = build(ReportConfig(dataset=str(out), out=str(tmp_path / "report")), progress=False)
    assert summary["movies"] == 1
    rules = summary["writer_rules"]
    assert rules["acceptance"] == {"fake": {"attempted": 2, "accepted": 1, "acceptance_rate": 0.5}}
    assert rules["rules"]["title_not_style"]["rejected_movie"] == 1 and len(rules["rejected"]) == 1
    html = (tmp_path / "report" / "index.html").read_text()
    for table_id in ("writer-acceptance", "writer-rules", "writer-levels"):
        assert f'id="{table_id}"' in html
    assert re.search(r"<td>fake</td><td[^>]*>2</td><td[^>]*>1</td><td>50.0</td>", html)
    assert "title_not_style" in html.split('id="writer-rules"', 1)[1]


def test_rules_stay_quiet_on_plausible_writing_that_looks_close_to_a_broken_rule():
    """What a strong writer may legitimately write: a title sharing a word with the style, a name with a
    particle, a colon inside a line, a question offering a choice."""
    from data_gen.story.rules import check, outline_draft, verdict_draft

    outline = {"title": "Noir City", "overview": "Clara and Leo chase a thief through the rain.", "tone": "tense, dark",
               "style_description": "noir, rain-soaked city streets, hard shadows", "style_keyword": "Noir",
               "locations": ["train station", "Harbor", "jazz club"],
               "characters": [{"name": "Clara", "gender": "woman", "lookalike": "Lupita Nyong'o", "colour": "red"},
                              {"name": "Leo", "gender": "man", "lookalike": "Leonardo DiCaprio", "colour": "blue"}],
               "chapters": [{"scene": ["jazz club"], "content": "Clara sees the thief: a man in a grey coat.",
                             "qa": [{"qa_type": "what", "question": "What does Clara see first: the thief or Leo?",
                                     "answer": "The thief."},
                                    {"qa_type": "where", "question": "Where does Clara first see the thief?",
                                     "answer": "In the jazz club."}]}]}
    assert check(outline_draft(outline)) == []
    story = "Clara sees the thief: a man in a grey coat.\nLeo waits at the train station."
    assert check(verdict_draft({"verdict": "supported", "evidence": "Clara sees the thief"},
                               "In the jazz club, where Clara sees the thief.", story)) == []
    assert [v.rule for v in check(verdict_draft({"verdict": "supported", "evidence": "ara sees the"}, "thief", story))] \
        == ["verify_evidence"]  # a quote must be whole words of the story
