"""Faithful re-implementations of how two trainers read their training JSON, for the export read-back tests.

Only the parts that decide whether visual input reaches the model and which frames it is, copied in
behaviour (names kept) from:

- LLaVA-NeXT, LLaVA-VL/LLaVA-NeXT @ df179663ae8b83207df100a1f7af24caec633ff9
  llava/train/train.py: LazySupervisedDataset._get_item (line 1137), preprocess_multimodal (line 381),
  DataArguments video_fps=1 / frames_upbound=0 / force_sample=False (lines 130-134);
  llava/utils.py: process_video_with_decord (line 25); llava/constants.py: DEFAULT_IMAGE_TOKEN;
  llava/model/llava_arch.py line 450: one IMAGE_TOKEN_INDEX per visual input, none -> text-only.
- LLaMA-Factory, hiyouga/LLaMA-Factory @ ff6d4d12eeb035d6ce06805a5733dd7b29f2ac30
  src/llamafactory/data/parser.py: DatasetAttr (line 27) + join (line 72) + get_dataset_list (line 93);
  src/llamafactory/data/loader.py: _load_single_dataset, load_from == "file" (line 51);
  src/llamafactory/data/converter.py: DatasetConverter._find_medias (line 43), SharegptDatasetConverter
  (line 135); src/llamafactory/hparams/data_args.py: media_dir defaults to dataset_dir;
  src/llamafactory/data/mm_plugin.py: _validate_messages (line 189), _regularize_videos (line 278),
  _check_video_is_nested_images (line 135); extras/constants.py: VIDEO_PLACEHOLDER = "<video>".
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

# ---------------------------------------------------------------------------------------- LLaVA-NeXT
DEFAULT_IMAGE_TOKEN = "<image>"


@dataclass
class LlavaDataArgs:
    video_folder: str | None = None
    video_fps: int = 1
    frames_upbound: int = 0
    force_sample: bool = False
    is_multimodal: bool = True
    mm_use_im_start_end: bool = False


def process_video_with_decord(video_file: str, data_args: LlavaDataArgs):
    from decord import VideoReader, cpu

    vr = VideoReader(video_file, ctx=cpu(0), num_threads=1)
    total_frame_num = len(vr)
    avg_fps = round(vr.get_avg_fps() / data_args.video_fps)
    frame_idx = [i for i in range(0, total_frame_num, avg_fps)]
    if data_args.frames_upbound > 0:
        if len(frame_idx) > data_args.frames_upbound or data_args.force_sample:
            frame_idx = np.linspace(0, total_frame_num - 1, data_args.frames_upbound, dtype=int).tolist()
    video = vr.get_batch(frame_idx).asnumpy()
    vr.seek(0)
    return video


def preprocess_multimodal(sources: list[list[dict[str, str]]], data_args: LlavaDataArgs):
    if not data_args.is_multimodal:
        return sources
    for source in sources:
        for sentence in source:
            num_im = len(re.findall(DEFAULT_IMAGE_TOKEN, sentence["value"]))
            if num_im == 1 and DEFAULT_IMAGE_TOKEN in sentence["value"] and not sentence["value"].startswith(DEFAULT_IMAGE_TOKEN):
                sentence["value"] = sentence["value"].replace(DEFAULT_IMAGE_TOKEN, "").strip()
                sentence["value"] = (DEFAULT_IMAGE_TOKEN + "\n" + sentence["value"]).strip()
    return sources


def llava_next_get_item(record: dict[str, Any], data_args: LlavaDataArgs) -> dict[str, Any]:
    """What `_get_item` hands the model: the decoded video (None: text-only) and the conversation."""
    sources = [record]
    video = None
    if "image" in sources[0]:
        raise AssertionError("export writes videos, not images")
    elif "video" in sources[0]:
        video_file = os.path.join(data_args.video_folder, record["video"])  # TypeError when video_folder is None
        if "shareVideoGPTV" in video_file:
            raise AssertionError("frame-folder branch is for shareVideoGPTV only")
        video = process_video_with_decord(video_file, data_args)  # (the original catches errors and moves on)
        conversations = preprocess_multimodal([json.loads(json.dumps(e["conversations"])) for e in sources], data_args)
    else:
        conversations = [json.loads(json.dumps(e["conversations"])) for e in sources]
    has_image = ("image" in record) or ("video" in record)
    image_tokens = sum(turn["value"].count(DEFAULT_IMAGE_TOKEN) for turn in conversations[0])
    return {"video": video, "conversations": conversations[0], "has_image": has_image,
            # llava_arch.prepare_inputs_labels_for_multimodal: features are inserted at IMAGE_TOKEN_INDEX only
            "visual_reaches_model": video is not None and has_image and image_tokens == 1}


# -------------------------------------------------------------------------------------- LLaMA-Factory
VIDEO_PLACEHOLDER = "<video>"


@dataclass
class DatasetAttr:
    load_from: str
    dataset_name: str
    formatting: str = "alpaca"
    videos: str | None = None
    images: str | None = None
    system: str | None = None
    messages: str | None = "conversations"
    role_tag: str | None = "from"
    content_tag: str | None = "value"
    user_tag: str | None = "human"
    assistant_tag: str | None = "gpt"
    observation_tag: str | None = "observation"
    function_tag: str | None = "function_call"
    system_tag: str | None = "system"

    def join(self, attr: dict[str, Any]) -> None:
        self.formatting = attr.get("formatting", "alpaca")
        for name in ("messages", "system", "images", "videos"):
            if name in attr.get("columns", {}):
                setattr(self, name, attr["columns"][name])
        for tag in ("role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag",
                    "system_tag"):
            if tag in attr.get("tags", {}):
                setattr(self, tag, attr["tags"][tag])


def get_dataset_list(dataset_names: list[str], dataset_dir: str) -> list[DatasetAttr]:
    with open(os.path.join(dataset_dir, "dataset_info.json")) as f:
        dataset_info = json.load(f)
    out = []
    for name in dataset_names:
        if name not in dataset_info:
            raise ValueError(f"Undefined dataset {name} in dataset_info.json.")
        attr = DatasetAttr("file", dataset_name=dataset_info[name]["file_name"])
        attr.join(dataset_info[name])
        out.append(attr)
    return out


def load_single_dataset(attr: DatasetAttr, dataset_dir: str):
    import datasets

    local_path = os.path.join(dataset_dir, attr.dataset_name)
    if not os.path.isfile(local_path):
        raise ValueError(f"File {local_path} not found.")
    return datasets.load_dataset("json", data_files=[local_path], split="train")


def find_medias(medias, media_dir: str):
    if medias is None:
        return None
    medias = medias[:] if isinstance(medias, list) else [medias]
    if len(medias) == 0:
        return None
    if isinstance(medias[0], str):
        for i in range(len(medias)):
            if os.path.isfile(os.path.join(media_dir, medias[i])):
                medias[i] = os.path.join(media_dir, medias[i])
    elif isinstance(medias[0], list):  # processed video frames
        for i in range(len(medias)):
            medias[i] = list(medias[i])
            for j in range(len(medias[i])):
                if os.path.isfile(os.path.join(media_dir, medias[i][j])):
                    medias[i][j] = os.path.join(media_dir, medias[i][j])
    return medias


def sharegpt_convert(example: dict[str, Any], attr: DatasetAttr, media_dir: str) -> dict[str, Any]:
    tag_mapping = {attr.user_tag: "user", attr.assistant_tag: "assistant", attr.observation_tag: "observation",
                   attr.function_tag: "function", attr.system_tag: "system"}
    accept_tags = ((attr.user_tag, attr.observation_tag), (attr.assistant_tag, attr.function_tag))
    messages = example[attr.messages]
    if attr.system_tag and len(messages) != 0 and messages[0][attr.role_tag] == attr.system_tag:
        messages = messages[1:]
    aligned, broken = [], False
    for turn_idx, message in enumerate(messages):
        if message[attr.role_tag] not in accept_tags[turn_idx % 2]:
            broken = True
            break
        aligned.append({"role": tag_mapping[message[attr.role_tag]], "content": message[attr.content_tag]})
    if len(aligned) % 2 != 0:
        broken = True
    prompt, response = ([], []) if broken else (aligned[:-1], aligned[-1:])
    return {"_prompt": prompt, "_response": response,
            "_videos": find_medias(example[attr.videos], media_dir) if attr.videos else None}


def check_video_is_nested_images(video) -> bool:
    return isinstance(video, list) and all(isinstance(frame, str) for frame in video)


def llamafactory_visual_input(converted: dict[str, Any]):
    """mm_plugin: placeholders must match the videos; a frame-list video is its frames, opened as images."""
    from PIL import Image

    messages = converted["_prompt"] + converted["_response"]
    videos = converted["_videos"] or []
    if sum(m["content"].count(VIDEO_PLACEHOLDER) for m in messages) != len(videos):
        raise ValueError(f"The number of videos does not match the number of {VIDEO_PLACEHOLDER} tokens")
    out = []
    for video in videos:
        if not check_video_is_nested_images(video):
            raise AssertionError("expected a list of frame files")
        for frame in video:
            if not os.path.exists(frame):
                raise ValueError("Invalid image found in video frames.")
        out.append([Image.open(frame).convert("RGB") for frame in video])
    return out
