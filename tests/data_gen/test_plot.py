"""The LLM plot writer end to end: `python -m data_gen.generate` against a real local HTTP server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from data_gen.generate import main
from dreamframe.dataset import DatasetFolder
from dreamframe.llm.fake_server import FakeServer
from tests.data_gen.screenwriter import Screenwriter

REPO = Path(__file__).resolve().parents[2]


def broken_level3(sub_story: str):
    """A spoiler: level 3 of the named sub-story replies with broken JSON."""
    def spoil(title, reply, body):
        conversation = " ".join(m["content"] for m in body["messages"])
        return '{"frames": [}' if title == "substory_frames" and sub_story in conversation else None
    return spoil


def run(out: Path, srv: FakeServer, *extra: str) -> int:
    return main(["--config", str(REPO / "configs/data_gen/tiny.yaml"), "--out", str(out), "--story.backend", "llm",
                 "--llm.backend", "openai", "--llm.base_url", srv.url, "--llm.model", "fake", "--llm.max_repairs", "1",
                 "--num-movies", "3", "--test-fraction", "0.34", *extra])


def test_plot_writer_end_to_end_then_cached_resume(tmp_path):
    out = tmp_path / "ds"
    with FakeServer(responder=Screenwriter(), latency=0.02) as srv:
        assert run(out, srv, "--plot.movie_concurrency", "3") == 0
        first = len(srv.requests)
        assert srv.max_in_flight > 1  # movies and their levels ran concurrently against the one endpoint
    folder = DatasetFolder(out)
    manifest = folder.manifest()
    movies = folder.movies()
    assert len(movies) == 3 and manifest["counts"]["movies"] == 3 and not manifest["failures"]
    for movie in movies:
        assert movie.source["story"] == "llm" and movie.num_frames == 2 * 2 * 3
        assert len(folder.frame_paths(movie.id)) == movie.num_frames  # rendered by the unchanged renderer
        for frame in movie.frames:  # look, colour, style keyword and location carried verbatim
            assert frame.description.startswith(f"generate an image in {movie.style_keyword} style: At {frame.place},")
            assert frame.place in movie.locations
            for name in frame.characters:
                assert movie.character(name).phrase in frame.description
        ids = [q.id for q in movie.qa]
        assert any("-l" in i for i in ids) and any("-q" in i for i in ids)  # LLM QA and grounded QA
        assert len(set(ids)) == len(ids)
    plot = manifest["plot"]
    assert plot["dropped"]["verifier"] > 0 and plot["dropped"]["dedup"] > 0
    assert plot["llm_qa_written"] == plot["llm_qa_kept"] + sum(plot["dropped"].values())
    assert plot["llm_qa_kept"] == sum(1 for m in movies for q in m.qa if "-l" in q.id)
    assert manifest["llm_usage_last_run"]["requests"] == first
    assert plot["llm"]["turns"] == first and plot["llm"]["completion_tokens"] == manifest["llm_usage_last_run"]["completion_tokens"]
    assert len({m.title for m in movies}) >= 2 or len({m.overview for m in movies}) == 3

    # a killed run: one movie lost its staged story and its files; the reply cache replays it for free
    victim = movies[0].id
    for p in (out / "stories" / f"{victim}.json", out / "movies" / f"{victim}.json"):
        p.unlink()
    shutil.rmtree(out / "frames" / victim)
    with FakeServer(responder=Screenwriter()) as srv:
        assert run(out, srv) == 0
        assert len(srv.requests) == 0
    resumed = DatasetFolder(out).manifest()
    assert resumed["llm_usage_last_run"]["requests"] == 0 and resumed["llm_usage_last_run"]["cache_hits"] > 0
    assert resumed["plot"] == plot  # totals over all finished movies, whatever each run cost
    again = DatasetFolder(out)
    assert again.load_movie(victim).to_json() == movies[0].to_json()


def test_failed_movie_is_recorded_with_its_reason_and_the_run_goes_on(tmp_path):
    out = tmp_path / "ds"
    with FakeServer(responder=Screenwriter(broken_level3("Sub-story 2 of this chapter"))) as srv:
        srv_url = srv.url
        assert run(out, srv, "--num-movies", "1", "--plot.verify_qa", "false") == 1
    manifest = DatasetFolder(out).manifest()
    (reason,) = manifest["failures"].values()
    assert "level 3 (chapter" in reason and "sub-story 2" in reason and "not valid JSON" in reason
    assert manifest["counts"]["movies"] == 0 and srv_url


def test_prompt_template_errors_name_the_file(tmp_path):
    from data_gen.story.llm import render_prompt

    (tmp_path / "level1.txt").write_text("Write a $genre movie about $missing.")
    with pytest.raises(ValueError, match=r"level1.txt: template placeholder 'missing'"):
        render_prompt("level1", str(tmp_path), genre="drama")
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        render_prompt("nope", str(tmp_path))


def test_near_duplicate_qa_removal():
    from data_gen.story.qa_dedup import near_duplicates_kept

    texts = ["Why does Anna go to the harbor? To meet her brother.",
             "Why did Anna go to the harbor? To meet her brother.",
             "What does Tom hold in the kitchen? A red umbrella.",
             "Where do they hug? In the old library."]
    assert near_duplicates_kept(texts, 0.9) == [True, False, True, True]
    assert near_duplicates_kept(texts, 1.01) == [True, True, True, True]


def test_configs_load_through_the_dataclass():
    from data_gen.config import GenerateConfig
    from dreamframe.config import from_dict, load_yaml

    for name in ("smollm2.yaml", "paper_gpt4.yaml"):
        cfg = from_dict(GenerateConfig, load_yaml(REPO / "configs/data_gen" / name))
        assert cfg.story.backend == "llm"
    paper = from_dict(GenerateConfig, load_yaml(REPO / "configs/data_gen/paper_gpt4.yaml"))
    assert (paper.story.chapters, paper.story.substories, paper.story.frames) == (11, 11, 11)
    assert paper.story.dialogue_lines == 6 and paper.story.locations >= 12
    assert (paper.plot.qa_level1, paper.plot.qa_level2, paper.plot.qa_level3) == (1, 1, 2)


def test_bad_llm_section_stops_the_run_with_the_option_named(tmp_path, capsys):
    rc = main(["--config", str(REPO / "configs/data_gen/tiny.yaml"), "--out", str(tmp_path / "ds"),
               "--story.backend", "llm", "--llm.backend", "openai", "--llm.model", ""])
    assert rc == 2 and "llm.model" in capsys.readouterr().err


def test_shards_write_into_one_folder_with_a_cache_each(tmp_path):
    out = tmp_path / "ds"
    with FakeServer(responder=Screenwriter()) as srv:
        for shard in ("0", "1"):
            assert run(out, srv, "--num-movies", "2", "--shard-index", shard, "--num-shards", "2",
                       "--plot.dedup_threshold", "1.0") == 0
    manifest = DatasetFolder(out).manifest()
    assert manifest["counts"]["movies"] == 2 and manifest["last_run"]["shard"] == "1/2"
    assert sorted(p.name for p in (out / "llm_cache").glob("*.sqlite")) == ["shard-0-of-2.sqlite", "shard-1-of-2.sqlite"]
    assert manifest["plot"]["dropped"]["dedup"] == 0 and manifest["plot"]["llm_qa_kept"] > 0


def test_every_writer_schema_compiles_to_a_grammar():
    """The local backend constrains replies with xgrammar; a pattern it cannot compile fails every movie."""
    import xgrammar as xgr

    from data_gen.config import GenerateConfig
    from data_gen.story.llm_schemas import VERIFY_SCHEMA, level1_schema, level2_schema, level3_schema
    from dreamframe.config import from_dict, load_yaml

    cfg = from_dict(GenerateConfig, load_yaml(REPO / "configs/data_gen/smollm2.yaml"))
    vocab = [chr(i) for i in range(32, 127)] + ["\n", "<eos>"]  # a byte-ish vocabulary is enough to compile
    compiler = xgr.GrammarCompiler(xgr.TokenizerInfo(vocab, stop_token_ids=[len(vocab) - 1]))
    for schema in (level1_schema(cfg, 3), level2_schema(cfg, ["harbor"], ["Anna"]), level3_schema(cfg, ["Anna"]),
                   VERIFY_SCHEMA):
        compiler.compile_json_schema(json.dumps(schema), any_whitespace=False)
