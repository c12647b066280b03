import numpy as np
import pytest
from PIL import Image

from dreamframe.frames import sample_indices, seconds_to_frames
from dreamframe.video import VideoError, decode_frames, encode_video, load_video, video_info


def test_sampling_rules_differ_as_documented():
    assert sample_indices(16, 4, "segment_centre") == [2, 6, 10, 14]
    assert sample_indices(16, 4, "linspace_inclusive") == [0, 5, 10, 15]
    ex = sample_indices(16, 4, "linspace_exclusive")
    assert ex[0] > 0 and ex[-1] < 15 and len(ex) == 4


def test_sampling_within_span_and_short_span_repeats():
    idx = sample_indices(100, 4, "segment_centre", start=40, end=48)
    assert all(40 <= i < 48 for i in idx) and idx == sorted(idx)
    assert sample_indices(10, 6, "segment_centre", start=2, end=4) == [2, 2, 2, 3, 3, 3]


def test_sampling_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown sampling rule"):
        sample_indices(10, 2, "random")
    with pytest.raises(ValueError, match="empty frame span"):
        sample_indices(10, 2, start=5, end=5)


def test_seconds_bound():
    assert seconds_to_frames(1.0, 2.0, fps=10, num_frames=100) == (10, 21)
    assert seconds_to_frames(None, None, fps=10, num_frames=100) == (0, 100)


def _frames(n=12, size=64):
    out = []
    for i in range(n):
        arr = np.zeros((size, size, 3), np.uint8)
        arr[..., 0] = 20 * i  # red channel encodes the frame index
        out.append(Image.fromarray(arr))
    return out


def test_video_round_trip(tmp_path):
    path = tmp_path / "v.mp4"
    encode_video(_frames(), path, fps=4)
    n, fps = video_info(path)
    assert n == 12 and fps == pytest.approx(4)
    got = decode_frames(path, [3, 0, 3, 11])
    reds = [np.asarray(f)[..., 0].mean() for f in got]
    assert [round(r / 20) for r in reds] == [3, 0, 3, 11]


def test_load_video_from_file_and_folder_agree(tmp_path):
    frames = _frames()
    encode_video(frames, tmp_path / "v.mp4", fps=4)
    (tmp_path / "f").mkdir()
    for i, f in enumerate(frames):
        f.save(tmp_path / "f" / f"{i:05d}.png")
    a = [round(np.asarray(f)[..., 0].mean() / 20) for f in load_video(tmp_path / "v.mp4", 4)]
    b = [round(np.asarray(f)[..., 0].mean() / 20) for f in load_video(tmp_path / "f", 4)]
    assert a == b == [1, 4, 7, 10]


def test_missing_and_unreadable_video(tmp_path):
    with pytest.raises(VideoError, match="not found"):
        load_video(tmp_path / "nope.mp4", 4)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(VideoError, match=str(bad)):
        load_video(bad, 4)


def test_atomic_write_uses_normal_permissions(tmp_path):
    import os

    from dreamframe.atomic import atomic_write_text

    atomic_write_text(tmp_path / "a.txt", "x")
    (tmp_path / "b.txt").write_text("x")
    assert os.stat(tmp_path / "a.txt").st_mode == os.stat(tmp_path / "b.txt").st_mode
