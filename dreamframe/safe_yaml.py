"""YAML read with bounds: a config file's size, and how far its aliases expand.

PyYAML builds an alias as a reference, so a 1 kB "billion laughs" file loads in a moment - and then
every consumer that copies, validates or dumps the config (jsonargparse, config_diff, the resolved
config saved beside an output) walks the expanded tree: gigabytes, minutes. Here the document is
composed (a graph of nodes, aliases shared) and its expanded size counted in linear time before
anything expands it; a file bigger than any real config is refused before it is read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

MAX_CONFIG_BYTES = 2_000_000
"""Largest config file read (the biggest shipped config is a few kB)."""
MAX_CONFIG_NODES = 200_000
"""Most values (scalars, lists, mappings) a config may hold once its aliases are expanded."""


class ConfigFileError(ValueError):
    """A config file or text refused before it is parsed; the message names it and the limit."""


def check_yaml_text(text: str, where: str) -> None:
    """Raise ConfigFileError when `text` is over the size limit or expands past MAX_CONFIG_NODES
    values; YAML syntax errors are left to the parser that reads it next (it names the line)."""
    import yaml

    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigFileError(f"{where}: {len(text)} characters; a config may have at most {MAX_CONFIG_BYTES}")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return
    except RecursionError:
        raise ConfigFileError(f"{where}: nested too deeply to be a config") from None
    if node is not None and _expanded_size(node, {}, set(), where) > MAX_CONFIG_NODES:
        raise ConfigFileError(f"{where}: its aliases (*name) expand to more than {MAX_CONFIG_NODES} values; "
                              "refusing it (a YAML alias bomb?)")


def _expanded_size(node: Any, memo: dict[int, int], open_nodes: set[int], where: str) -> int:
    """Values under `node` with every alias expanded, each shared node counted once per use."""
    import yaml

    key = id(node)
    if key in memo:
        return memo[key]
    if key in open_nodes:
        raise ConfigFileError(f"{where}: an alias refers to a value that contains it (a recursive YAML structure)")
    open_nodes.add(key)
    total = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            total += _expanded_size(child, memo, open_nodes, where)
            if total > MAX_CONFIG_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            total += _expanded_size(k, memo, open_nodes, where) + _expanded_size(v, memo, open_nodes, where)
            if total > MAX_CONFIG_NODES:
                break
    open_nodes.discard(key)
    memo[key] = total
    return total


def check_config_file(path: str | os.PathLike[str]) -> None:
    """Refuse a config file over MAX_CONFIG_BYTES before reading it, or one whose aliases expand too far."""
    size = os.path.getsize(path)
    if size > MAX_CONFIG_BYTES:
        raise ConfigFileError(f"{path}: {size} bytes; a config file may have at most {MAX_CONFIG_BYTES} bytes")
    check_yaml_text(Path(path).read_text(encoding="utf-8", errors="replace"), str(path))


def load_yaml_file(path: str | os.PathLike[str]) -> Any:
    """yaml.safe_load of a file, within the limits above (ConfigFileError names the file)."""
    import yaml

    check_config_file(path)
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
