"""Eval reads exactly the frames and files it is meant to (issue 12): frames by the index in their file
name (a gap is an error counted per item, never a shift of the later frames), benchmark paths confined
to the benchmark folder, and result names that cannot leave --out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dreamframe.video import VideoError, load_video
from eval.run import main
from eval.tasks import materialise
from dreamframe.clip import Clip
from tests.eval.benchmarks.fixtures import open_qa, tiny_video


def numbered_folder(folder: Path, indices: list[int], first_name: int = 0) -> dict[int, np.ndarray]:
    """One flat-colour PNG per index (lossless, so pixels identify the file); returns index -> pixels."""
    folder.mkdir(parents=True)
    pixels = {}
    for i in indices:
        arr = np.full((8, 8, 3), 10 * i + 5, dtype=np.uint8)
        Image.fromarray(arr).save(folder / f"{i + first_name:05d}.png")
        pixels[i + first_name] = arr
    return pixels


def test_frames_are_addressed_by_their_file_name_not_listing_position(tmp_path):
    pixels = numbered_folder(tmp_path / "movie", [i for i in range(10) if i != 3])  # 00003.png is missing
    got = load_video(tmp_path / "movie", 4, "segment_centre", span=(4, 8))
    assert [int(np.asarray(im)[0, 0, 0]) for im in got] == [int(pixels[i][0, 0, 0]) for i in (4, 5, 6, 7)]
    with pytest.raises(VideoError, match=r"00003\.png"):
        load_video(tmp_path / "movie", 4, "segment_centre", span=(2, 6))


def test_mvbench_style_folder_counting_from_one(tmp_path):
    pixels = numbered_folder(tmp_path / "clip", list(range(12)), first_name=1)  # 00001.png .. 00012.png
    ref = Clip(path=str(tmp_path / "clip"), num_frames=3, rule="videochat2", fps=3.0)
    got = [int(np.asarray(im)[0, 0, 0]) for im in ref.load()]
    assert got == [int(pixels[i][0, 0, 0]) for i in (2, 6, 9)]  # mvbench.ipynb get_index(None, 3, 12, first_idx=1)
    (tmp_path / "clip" / "00006.png").unlink()
    with pytest.raises(VideoError, match=r"00006\.png"):
        ref.load()


def test_heldout_gap_is_an_error_counted_per_item(tmp_path, heldout_root):
    """One missing keyframe in a held-out movie: the items whose frames need it are counted as missing (their
    clip lists its frame files, dreamframe.clip.qa_clip), naming the file, and the results record them; the other items of that movie are still scored."""
    data = tmp_path / "data"
    shutil.copytree(heldout_root, data)
    mat = materialise(["dreamframe_heldout_closed"], data, tmp_path / "tasks", num_frames=4)
    rows = [json.loads(line) for line in (tmp_path / "tasks/data/dreamframe_heldout_closed.jsonl").open()]
    movie = rows[0]["movie_id"]
    gap = int(Path(rows[0]["video"]["files"][1]).stem)  # inside the first item's frames: at least it needs it
    (data / "frames" / movie / f"{gap:05d}.jpg").unlink()
    needing = [r["id"] for r in rows if _needs(r, gap) and r["movie_id"] == movie]
    assert needing and mat.num_docs["dreamframe_heldout_closed"] == len(rows)

    out = tmp_path / "out"
    assert main(["--model", "tiny-llava_onevision", "--tasks", "dreamframe_heldout_closed", "--data-root", str(data),
                 "--out", str(out), "--num-frames", "4", "--batch-size", "8", "--max-new-tokens", "2",
                 "--threads", "1", "--progress", "false", "--bootstrap-iters", "0"]) == 0
    (results,) = (out / "tiny-llava_onevision").glob("results_*.json")
    block = json.loads(results.read_text())["dreamframe"]
    assert block["tasks"]["dreamframe_heldout_closed"]["errors"]["missing_video"] == len(needing)  # a listed frame file
    items = block["tasks"]["dreamframe_heldout_closed"]["error_items"]
    assert len(items) == len(needing) and all(f"{gap:05d}.jpg" in i["message"] for i in items)


def _needs(row: dict, index: int) -> bool:
    """Whether the row's clip (its listed frame files, sampled by the clip contract) takes keyframe `index`."""
    return any(Path(p).name == f"{index:05d}.jpg" for p in Clip.from_dict(row["video"]).frame_paths())


def test_video_name_with_dotdot_is_never_read(tmp_path):
    """An annotation `video_name` of `../../secret` that points at a real video outside the benchmark
    folder: the item is left out when the tasks are written (counted, issue 27) and, should a row carry
    such a path anyway, refused when loading (counted as unreadable by the LM); the file is never read."""
    base = open_qa(tmp_path / "bench")
    tiny_video(tmp_path / "bench" / "secret.avi")  # outside GPT_Zero_Shot_QA/MSVD_Zero_Shot_QA
    q = base / "MSVD_Zero_Shot_QA" / "test_q.json"
    questions = json.loads(q.read_text())
    questions[0]["video_name"] = "../../../secret"
    q.write_text(json.dumps(questions))
    mat = materialise(["msvd_qa"], tmp_path / "bench", tmp_path / "tasks")
    rows = [json.loads(line) for line in (tmp_path / "tasks/data/msvd_qa.jsonl").open()]
    assert [r["question_id"] for r in rows] == [q["question_id"] for q in questions[1:]]
    assert mat.num_docs["msvd_qa"] == 2
    assert mat.skipped_items["msvd_qa"]["counts"] == {"video_outside_folder": 1}
    escaped = Clip.from_dict({**rows[0]["video"], "path": str(base / "MSVD_Zero_Shot_QA/videos/../../../secret.avi")})
    assert Path(escaped.path).resolve() == (tmp_path / "bench" / "secret.avi").resolve()
    with pytest.raises(VideoError, match="outside the benchmark folder"):
        escaped.load()
    assert len(Clip.from_dict(rows[0]["video"]).load()) == rows[0]["video"]["num_frames"]  # the others load


@pytest.mark.parametrize("name", ["..", ".", "../elsewhere"])
def test_result_name_cannot_leave_out(tmp_path, heldout_root, name, capsys):
    """Refused at parse time (exit 2, naming --name); `../elsewhere`, which lm-eval's own sanitising kept in
    a hidden folder `out/..__elsewhere/` the leaderboard skipped, is refused too (issue 27)."""
    out = tmp_path / "a" / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["--model", "tiny-llava_onevision", "--name", name, "--tasks", "dreamframe_heldout_closed",
              "--data-root", str(heldout_root), "--out", str(out), "--limit", "1", "--max-new-tokens", "1",
              "--progress", "false", "--bootstrap-iters", "0"])
    assert exit_info.value.code == 2 and "--name" in capsys.readouterr().err
    assert not list((tmp_path / "a").rglob("results_*.json"))
