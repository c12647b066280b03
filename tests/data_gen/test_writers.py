"""Several writers in one dataset folder, kills at any point, and what a finished movie means."""

import dataclasses
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data_gen.generate import main
from dreamframe.claims import STALE_AFTER_S, Claims, Owner, host_name, pid_alive
from dreamframe.dataset import DatasetFolder
from dreamframe.dataset_check import check_dataset
from tests.conftest import REPO
from tests.data_gen.test_generate import _snapshot

TINY = ["--config", str(REPO / "configs/data_gen/tiny.yaml")]
PROBE = [sys.executable, str(REPO / "tests/data_gen/generate_probe.py")]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for d in ("frames", "movies", "style", "videos", "qa", ".writers/claims")
                  for p in (out / d).glob(".*" if d != ".writers/claims" else "*"))


def test_prepare_step_keeps_a_live_writers_temp_folder_and_removes_dead_ones(tmp_path):
    out = tmp_path / "d"
    assert main([*TINY, "--out", str(out), "--num-movies", "2"]) == 0
    live = out / "frames" / f".m00005.tmp-{host_name()}-{os.getpid()}"  # this test process is alive
    dead = out / "frames" / f".m00006.tmp-{host_name()}-{_dead_pid()}"
    old_style = out / "frames" / f".m00007.tmp-{_dead_pid()}"
    for tmp in (live, dead, old_style):
        tmp.mkdir()
        (tmp / "00000.jpg").write_bytes(b"half")
    assert main([*TINY, "--out", str(out), "--num-movies", "0"]) == 0  # the job array's prepare step
    assert (live / "00000.jpg").exists(), "another writer's frames in progress were removed"
    assert not dead.exists() and not old_style.exists()


def test_two_plain_writers_render_each_movie_once(tmp_path):
    out, log = tmp_path / "d", tmp_path / "probe.log"
    cmd = [*PROBE, *TINY, "--out", str(out), "--num-movies", "8", "--render.size", "192", "--workers", "1"]
    env = {**os.environ, "DF_PROBE_LOG": str(log)}
    writers = [subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    for proc in writers:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    written = [line.split()[1] for line in log.read_text().splitlines() if line.startswith("movie ")]
    assert sorted(written) == [f"m{i:05d}" for i in range(8)], "each movie rendered exactly once"
    assert check_dataset(out, [f"m{i:05d}" for i in range(8)]) == []


def test_a_movie_with_missing_files_is_not_finished_and_is_written_again(tmp_path):
    ref, out = tmp_path / "ref", tmp_path / "d"
    for folder in (ref, out):
        assert main([*TINY, "--out", str(folder), "--num-movies", "3"]) == 0
    victim = out / "frames" / "m00001"
    for frame in sorted(victim.iterdir())[4:]:  # as a writer whose temp folder was removed under it left it
        frame.unlink()
    assert check_dataset(out) and "m00001" not in DatasetFolder(out).finished_movie_ids()
    assert main([*TINY, "--out", str(out), "--num-movies", "3"]) == 0
    assert _snapshot(out) == _snapshot(ref)
    assert DatasetFolder(out).manifest()["last_run"]["written"] == 1
    assert check_dataset(out, ["m00000", "m00001", "m00002"]) == []


def test_a_failure_stays_in_the_manifest_whoever_writes_it_last(tmp_path, capsys):
    out = tmp_path / "d"
    (out / "style" / "m00001.json").mkdir(parents=True)  # the style file cannot be written: m00001 fails
    shard = ["--num-movies", "4", "--num-shards", "2", "--shard-index"]
    assert main([*TINY, "--out", str(out), *shard, "1"]) == 1
    assert main([*TINY, "--out", str(out), *shard, "0"]) == 0  # its own movies are fine
    assert main([*TINY, "--out", str(out), "--num-movies", "0"]) == 0  # the prepare step of a job array
    manifest = DatasetFolder(out).manifest()
    assert list(manifest["failures"]) == ["m00001"] and "IsADirectoryError" in manifest["failures"]["m00001"]
    assert manifest["counts"]["movies"] == 3
    (out / "style" / "m00001.json").rmdir()
    assert main([*TINY, "--out", str(out), "--num-movies", "4"]) == 0
    manifest = DatasetFolder(out).manifest()
    assert manifest["failures"] == {} and manifest["counts"]["movies"] == 4
    assert check_dataset(out, [f"m{i:05d}" for i in range(4)]) == []


def test_folder_with_movies_but_no_config_is_refused(tmp_path, capsys):
    out = tmp_path / "d"
    assert main([*TINY, "--out", str(out), "--num-movies", "2"]) == 0
    (out / "config.yaml").unlink()
    before = _snapshot(out) | {"manifest.json": (out / "manifest.json").read_bytes()}
    assert main([*TINY, "--out", str(out), "--num-movies", "2", "--story.frames", "5"]) == 2
    assert "holds 2 movie(s) but no config.yaml" in capsys.readouterr().err
    assert _snapshot(out) | {"manifest.json": (out / "manifest.json").read_bytes()} == before
    assert not (out / "config.yaml").exists()


def test_claims_are_taken_over_only_from_writers_that_are_gone(tmp_path):
    claims = Claims(tmp_path)
    me = Owner.current()
    others = {
        "dead": Owner(me.host, me.boot, _dead_pid(), ""),
        "reused_pid": Owner(me.host, me.boot, os.getppid(), "1"),  # alive pid, another process's start time
        "live": Owner(me.host, me.boot, os.getppid(), _start(os.getppid())),
        "remote_fresh": Owner("elsewhere", "b", 1, "1"),
        "remote_silent": Owner("elsewhere", "b", 1, "1"),
    }
    for movie_id, owner in others.items():
        claims.path(movie_id).parent.mkdir(parents=True, exist_ok=True)
        claims.path(movie_id).write_text(json.dumps(dataclasses.asdict(owner)))
    old = time.time() - STALE_AFTER_S - 5
    os.utime(claims.path("remote_silent"), (old, old))
    assert {m for m in others if claims.claim(m) is None} == {"dead", "reused_pid", "remote_silent"}
    assert claims.holder("dead") == me
    claims.release("dead")
    assert claims.holder("dead") is None
    claims.release("live")  # not ours: kept
    assert claims.holder("live") == others["live"]


def _start(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


def _workers(pid: int) -> list[int]:
    """The multiprocessing workers `pid` spawned (not its resource tracker)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if ppid == pid and b"spawn_main" in cmdline:
            kids.append(int(stat.parent.name))
    return kids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find the workers")
def test_workers_die_with_the_run_when_only_it_is_killed(tmp_path):
    out = tmp_path / "d"
    proc = subprocess.Popen([sys.executable, "-m", "data_gen.generate", *TINY, "--out", str(out),
                             "--num-movies", "200", "--workers", "2"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not list(out.glob("movies/*.json")):  # workers are rendering
            time.sleep(0.05)
        workers = _workers(proc.pid)
        assert len(workers) >= 2, "the run should have spawned its workers"
        proc.kill()  # the main process only, as the OOM killer does
        proc.wait()
        deadline = time.time() + 20
        while time.time() < deadline and any(pid_alive(w) for w in workers):  # a zombie counts as dead
            time.sleep(0.1)
        assert not [w for w in workers if pid_alive(w)], "workers outlived their run"
    finally:
        proc.kill()
        for w in workers:
            try:
                os.kill(w, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find the workers")
def test_a_killed_worker_fails_its_movies_and_the_run_goes_on(tmp_path):
    out, n = tmp_path / "d", 12
    cmd = [sys.executable, "-m", "data_gen.generate", *TINY, "--out", str(out), "--num-movies", str(n),
           "--workers", "2", "--render.size", "192"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("movies/*.json")):
        time.sleep(0.05)
    victims = _workers(proc.pid)
    assert victims, "the run should have spawned its workers"
    os.kill(victims[0], signal.SIGKILL)  # as the OOM killer picks one worker
    assert proc.wait(timeout=300) == 1
    manifest = DatasetFolder(out).manifest()
    assert manifest["failures"] and all("worker process died" in e for e in manifest["failures"].values())
    assert manifest["counts"]["movies"] + len(manifest["failures"]) == n  # the others were written after
    assert main([*cmd[3:]]) == 0
    assert check_dataset(out, [f"m{i:05d}" for i in range(n)]) == []


@pytest.mark.slow
def test_kill_anywhere_then_rerun_equals_an_uninterrupted_run(tmp_path):
    """SIGKILL before a chosen file-system write (a frame, inside an atomic write of a style file, video,
    movie JSON, QA table or manifest, or at random), rerun the same command: the same bytes as a clean run."""
    args = [*TINY, "--num-movies", "3", "--render.size", "48", "--render.video_fps", "2", "--workers", "1"]
    ref, log = tmp_path / "ref", tmp_path / "ref.log"
    subprocess.run([*PROBE, *args, "--out", str(ref)], cwd=REPO, check=True, capture_output=True,
                   env={**os.environ, "DF_PROBE_LOG": str(log)})
    ops = [line for line in log.read_text().splitlines() if not line.startswith("movie ")]

    def first(pred) -> int:
        return next(i for i, op in enumerate(ops, start=1) if pred(op))

    points = {
        "config": first(lambda op: "config.yaml" in op),
        "frame of the 2nd movie": first(lambda op: op.startswith("save") and "m00001.tmp" in op) + 3,
        "style file": first(lambda op: op.startswith("replace") and "/style/" in op),
        "video": first(lambda op: op.startswith("replace") and "/videos/" in op),
        "movie JSON (temp written, not renamed)": first(lambda op: op.startswith("replace") and "movies/.m00002" in op),
        "QA table": first(lambda op: op.startswith("replace") and "/qa/." in op),
        "manifest": first(lambda op: op.startswith("replace") and ".manifest.json" in op),
    }
    points |= {f"random {k}": k for k in random.Random(0).sample(range(1, len(ops) + 1), 2)}
    expected = _snapshot(ref) | {p.name: p.read_bytes() for p in (ref / "videos").iterdir()}
    for label, k in points.items():
        out = tmp_path / f"k{k}"
        killed = subprocess.run([*PROBE, *args, "--out", str(out)], cwd=REPO, capture_output=True,
                                env={**os.environ, "DF_KILL_AT": str(k)})
        assert killed.returncode == -signal.SIGKILL, (label, killed.stderr[-500:])
        rerun = subprocess.run([sys.executable, "-m", "data_gen.generate", *args, "--out", str(out)], cwd=REPO,
                               capture_output=True, text=True)  # a fresh process, as a user reruns it
        assert rerun.returncode == 0, (label, rerun.stderr[-500:])
        got = _snapshot(out) | {p.name: p.read_bytes() for p in (out / "videos").iterdir()}
        assert got == expected, f"killed at op {k} ({label}): output differs from the uninterrupted run"
        assert check_dataset(out, ["m00000", "m00001", "m00002"]) == [], label
        assert _leftovers(out) == [], label
        shutil.rmtree(out)


@pytest.mark.slow
def test_stress_writers_short_version():
    """benchmarks/stress_writers.py with 2 random trials: plain duplicates, shards and the prepare step."""
    done = subprocess.run([sys.executable, "benchmarks/stress_writers.py", "--trials", "2", "--movies", "4",
                           "--seed", "1", "--time-limit", "500"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2/2 trials passed" in done.stdout
