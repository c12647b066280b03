"""The one registry (dreamframe.registry) and its three kinds: benchmarks found by folder with their
published numbers, story writers, model families. A new kind member plugs in without editing the code
that uses it."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from data_gen.generate import generate, main
from data_gen.story.procedural import write_movie
from data_gen.story.writers import WRITERS
from dreamframe.registry import Registry, RegistryError
from eval.leaderboard import benchmark_of, load_published
from eval.tasks.registry import BENCHMARKS, CardError, discover, published
from models.registry import FAMILIES, family_of_model_type
from tests.conftest import REPO
from tests.data_gen.dataset_fixtures import tiny_config


class Greeter:
    """A kind's Protocol for the registry's own tests."""

    greeting: str

    def greet(self, name: str) -> str: ...


def _plugin(tmp_path, monkeypatch, body: str, name: str = "plug_greeter") -> None:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))


def test_registry_imports_on_load_and_names_the_option_the_known_names_and_missing_members(tmp_path, monkeypatch):
    _plugin(tmp_path, monkeypatch, """
        class Hello:
            greeting = "hi"
            def greet(self, name): return f"hi {name}"
        class Half:
            greeting = "hm"
    """)
    reg: Registry = Registry("greeter", Greeter, option="greeter.name")
    reg.add("hello", "plug_greeter:Hello")
    reg.add("half", "plug_greeter:Half")
    reg.add("gone", "plug_greeter:Nowhere")
    assert list(reg) == ["hello", "half", "gone"] and "hello" in reg
    assert "plug_greeter" not in sys.modules  # nothing imported by registering
    assert reg.load("hello")().greet("x") == "hi x"
    with pytest.raises(RegistryError, match=r"greeter.name='nope' is not a known greeter; known: hello, half, gone"):
        reg.load("nope")
    with pytest.raises(RegistryError, match=r"'half' \(plug_greeter:Half\) lacks greet of .*Greeter"):
        reg.load("half")
    with pytest.raises(RegistryError, match="plug_greeter has no 'Nowhere'"):
        reg.load("gone")
    with pytest.raises(RegistryError, match="'hello' is registered twice"):
        reg.add("hello", "plug_greeter:Half")


def test_every_registered_benchmark_story_writer_and_family_offers_its_protocol():
    for registry in (BENCHMARKS, WRITERS, FAMILIES):
        assert len(registry) > 0
        for name in registry:
            registry.load(name)  # raises naming the missing members
    assert {"mvbench", "msvd_qa", "videomme_w_subs", "dreamframe_heldout"} <= set(BENCHMARKS)
    assert family_of_model_type("qwen2_5_vl") == "qwen2_5_vl" and family_of_model_type("bert") is None


def test_each_benchmark_folder_carries_its_leaderboard_board_and_published_numbers():
    """The leaderboard's table of benchmarks and its published rows come from the benchmark folders:
    every name --tasks accepts lands on a board, and every board belongs to a folder."""
    entries, boards = load_published("builtin")
    assert all(benchmark_of(name, boards) is not None for name in BENCHMARKS)
    assert len(entries) == 51 and {e.benchmark for e in entries} <= set(boards)
    mvbench = {(e.model, e.value) for e in entries if e.benchmark == "mvbench"}
    assert ("VideoChatGPT-7B + DreamFrame data", 35.8) in mvbench and ("Qwen2-VL-7B", 67.0) in mvbench
    assert not (REPO / "eval" / "published.yaml").exists()  # no second list of benchmarks


def _bench_folder(root, folder: str, card: str) -> None:
    (root / folder).mkdir(parents=True)
    (root / folder / "__init__.py").write_text(textwrap.dedent("""
        from pathlib import Path
        from dreamframe.clip import ClipSpec
        NAME = "toybench"
        DATA_DIR = "Toy"
        DEFAULT_FRAMES = ClipSpec(4, "segment_centre")
        TASKS = {"toybench": "toy questions"}
        GROUP = None
        PARSE_RULE = "exact match"
        def template(task): return "_template.yaml"
        def find_root(data_root): return Path(data_root) / DATA_DIR
        def prepare(root, task, num_frames, rule): return []
    """))
    (root / folder / "benchmark.yaml").write_text(textwrap.dedent(card))


def test_a_new_benchmark_is_one_folder(tmp_path, monkeypatch):
    tasks = tmp_path / "plug_tasks"
    tasks.mkdir()
    (tasks / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    _bench_folder(tasks, "toy", """
        benchmarks:
          toybench: plug_tasks.toy
        boards:
          toybench: {title: Toy Bench, aliases: [toybench, toy], judged: false}
        sources:
          toypaper: {citation: "Doe et al., Toy Bench", url: "https://example.org/toy"}
        published:
          - {model: Toy-7B, source: toypaper, values: {toybench: 50.0}}
          - {model: Toy-7B + data, base_model: Toy-7B, source: dreamframe, values: {toybench: 55.5}}
    """)
    found = discover(tasks)
    assert list(found) == ["toybench"] and found.entry("toybench").info["folder"] == tasks / "toy"
    assert found.load("toybench").TASKS == {"toybench": "toy questions"}
    doc = published(tasks)
    assert doc["benchmarks"] == {"toybench": {"title": "Toy Bench", "aliases": ["toybench", "toy"], "judged": False}}
    assert [r["model"] for r in doc["rows"]] == ["Toy-7B", "Toy-7B + data"]
    assert doc["sources"]["toypaper"]["citation"] == "Doe et al., Toy Bench" and "dreamframe" in doc["sources"]
    path = tmp_path / "pub.yaml"  # the same document is what --published FILE reads
    path.write_text(json.dumps(doc))
    entries, boards = load_published(str(path))
    assert {(e.model, e.value, e.base_model) for e in entries} == {("Toy-7B", 50.0, None), ("Toy-7B + data", 55.5, "Toy-7B")}
    assert "toybench" in boards and "mvbench" in boards


@pytest.mark.parametrize("row, message", [
    ("{model: A, source: dreamframe, values: {mvbench: 1}}", r"published\[0\]: 'mvbench' is not a board of this card"),
    ("{model: A, source: nobody, values: {toybench: 1}}", r"published\[0\]: source 'nobody' is in neither"),
    ("{model: A, values: {toybench: 1}}", r"published\[0\]: needs model, source and values"),
])
def test_a_bad_card_is_refused_naming_its_file_and_row(tmp_path, row, message):
    _bench_folder(tmp_path, "toy", f"""
        benchmarks:
          toybench: plug_tasks.toy
        boards:
          toybench: {{title: Toy Bench, aliases: [toybench], judged: false}}
        published:
          - {row}
    """)
    with pytest.raises(CardError, match=rf"toy/benchmark.yaml: {message}"):
        published(tmp_path)


class ShoutingWriter:
    """A story backend written for this test: procedural movies with shouted titles and a batch stage
    that records what it was handed. Registered at run time: data_gen.generate is not edited."""

    batches: list[list[str]] = []
    batch_size = 3

    def __init__(self, cfg):
        self.cfg = cfg

    def batch_stage(self, progress):
        def stage(batch):
            ShoutingWriter.batches.append([mid for _, mid in batch])
            return {}
        return stage

    def story(self, index, movie_id):
        movie = write_movie(self.cfg.story, self.cfg.seed, index, movie_id)
        movie.title = movie.title.upper()
        return movie

    def manifest(self, finished):
        return {"shouted": len(finished)}


def test_a_new_story_backend_is_one_registry_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(WRITERS, "_entries", dict(WRITERS._entries))  # registered for this test only
    WRITERS.add("shouting", f"{__name__}:ShoutingWriter")
    cfg = tiny_config(tmp_path / "d", num_movies=3, workers=1)
    cfg.story.backend = "shouting"
    manifest = generate(cfg, progress=False)
    assert manifest["shouted"] == 3 and manifest["backends"]["story"] == "shouting"
    assert sorted(m for b in ShoutingWriter.batches for m in b) == ["m00000", "m00001", "m00002"]
    movie = json.loads((tmp_path / "d" / "movies" / "m00000.json").read_text())
    assert movie["title"] == movie["title"].upper() and movie["qa"]
    code = main(["--config", str(REPO / "configs/data_gen/tiny.yaml"), "--out", str(tmp_path / "e"),
                 "--story.backend", "typo"])
    assert code == 2
    err = capsys.readouterr().err
    assert "story.backend='typo' is not a known story writer; known: procedural, llm, shouting" in err
    assert not (tmp_path / "e").exists()
