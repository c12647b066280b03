import json

from data_gen.export import main
from dreamframe.dataset import DatasetFolder


def test_llava_export(dataset, tmp_path):
    out = tmp_path / "llava.json"
    assert main(["--in", str(dataset), "--format", "llava", "--out", str(out), "--num-frames", "4"]) == 0
    records = json.loads(out.read_text())
    folder = DatasetFolder(dataset)
    qas = {q.id: q for m in folder.movies("train") for q in m.qa}
    assert len(records) == len(qas)
    for rec in records:
        qa = qas[rec["id"]]
        human, gpt = rec["conversations"]
        assert human["from"] == "human" and human["value"].startswith("<image>\n" + qa.question)
        assert gpt == {"from": "gpt", "value": qa.answer}
        assert len(rec["frames"]) == min(4, qa.frame_end - qa.frame_start)  # a 3-keyframe span: 3 frames
        for rel in rec["frames"]:
            path = (tmp_path / rel).resolve()
            assert path.is_file()
            assert qa.frame_start <= int(path.stem) < qa.frame_end
        clip = (tmp_path / rec["video"]).resolve()
        assert clip.suffix == ".mp4" and clip.is_file() and clip.parent.parent == (tmp_path / "llava.clips")
        for opt in qa.options:
            assert f") {opt}\n" in human["value"]


def test_sharegpt_export_test_split(dataset, tmp_path):
    out = tmp_path / "sub" / "sg.json"
    assert main(["--in", str(dataset), "--format", "sharegpt", "--split", "test", "--out", str(out)]) == 0
    records = json.loads(out.read_text())
    test_ids = {q.id for m in DatasetFolder(dataset).movies("test") for q in m.qa}
    assert {r["id"] for r in records} == test_ids
    rec = records[0]
    assert [m["from"] for m in rec["conversations"]] == ["human", "gpt"]
    assert rec["conversations"][0]["value"].startswith("<video>")
    info = json.loads((out.parent / "dataset_info.json").read_text())
    assert info["sg"]["file_name"] == "sg.json" and info["sg"]["columns"] == {"messages": "conversations", "videos": "videos"}
    assert len(rec["videos"]) == 1 and all((out.parent / p).resolve().is_file() for p in rec["videos"][0])


def test_export_of_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["--in", str(tmp_path / "nope"), "--out", str(tmp_path / "x.json")]) == 2
    assert "no manifest.json" in capsys.readouterr().err
