"""Run configuration: dataclasses whose field docstrings become `--help`, YAML files, dotted overrides.

Every entry point parses `--config FILE.yaml` then `--section.key value` overrides with jsonargparse,
so an unknown key is an error that names it, and so is an abbreviated one (`--max_step` is not taken
for `--max_steps`: one typo must not start a long default job). Counts and ranges are restricted types
(jsonargparse.typing); a check across fields raises ValueError in the dataclass's `__post_init__`, which
becomes the same kind of usage error. The resolved config is saved beside every output, and
`config_diff` against it tells whether an existing output folder was made with the same settings.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import sys
import typing
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import yaml

from dreamframe.safe_yaml import ConfigFileError, check_config_file, check_yaml_text, load_yaml_file

T = TypeVar("T")


def _normalise_argv(argv: Sequence[str], aliases: dict[str, str]) -> list[str]:
    """Accept `--num-movies` for `--num_movies` (jsonargparse names options after the fields) and
    option aliases such as `--in` for `--input` (a field cannot be called `in`)."""
    out = []
    for arg in argv:
        if arg.startswith("--") and len(arg) > 2:
            key, eq, value = arg[2:].partition("=")
            key = key.replace("-", "_")
            arg = "--" + aliases.get(key, key) + eq + value
        out.append(arg)
    return out


def build_parser(config_cls: type, prog: str, description: str):
    import argparse

    from jsonargparse import ActionConfigFile, ArgumentParser, DefaultHelpFormatter, set_parsing_settings

    class Formatter(DefaultHelpFormatter, argparse.RawDescriptionHelpFormatter):
        """Keeps the module docstring's command examples on their own lines."""

    set_parsing_settings(docstring_parse_attribute_docstrings=True)
    parser = ArgumentParser(prog=prog, description=description, formatter_class=Formatter, allow_abbrev=False)
    parser.add_argument("--config", action=ActionConfigFile, help="YAML file with any of the options below.")
    parser.add_class_arguments(config_cls, nested_key=None, as_group=False)
    return parser


def parse_config(config_cls: type[T], argv: Sequence[str] | None, prog: str, description: str,
                 aliases: dict[str, str] | None = None) -> T:
    """Parse `--config` + overrides into an instance of `config_cls` (exits with a message on bad input)."""
    parser = build_parser(config_cls, prog, description)
    argv = _normalise_argv(sys.argv[1:] if argv is None else argv, aliases or {})
    try:
        check_config_args(argv)
    except ConfigFileError as err:
        parser.error(str(err))
    ns = parser.parse_args(argv)
    ns.pop("config", None)
    try:
        return from_dict(config_cls, ns.as_dict())
    except ValueError as err:  # a check in a config's __post_init__: exit 2 naming the option
        parser.error(str(err))


def check_config_args(argv: Sequence[str]) -> None:
    """Bound every `--config` value (a file, or YAML text given inline) before jsonargparse reads it, so an
    alias bomb or a huge file is refused in a moment, naming the file (dreamframe/safe_yaml.py)."""
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--config="):
            value = arg.partition("=")[2]
        else:
            continue
        if os.path.isfile(value):
            check_config_file(value)
        elif os.path.exists(value):
            raise ConfigFileError(f"--config {value}: not a regular file")
        else:
            check_yaml_text(value, "--config")


def from_dict(config_cls: type[T], data: dict[str, Any], _prefix: str = "") -> T:
    """Build a (nested) config dataclass from plain data, rejecting unknown keys and values outside a
    field's restricted type (jsonargparse.typing, e.g. PositiveInt) by their dotted name."""
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise ValueError(f"unknown config key(s) for {config_cls.__name__}: {sorted(unknown)}")
    hints = typing.get_type_hints(config_cls)
    kwargs = {}
    for name, value in data.items():
        sub = _dataclass_type(hints[name])
        if sub and isinstance(value, dict):
            value = from_dict(sub, value, f"{_prefix}{name}.")
        elif sub and isinstance(value, list):  # list[SomeConfig]
            value = [from_dict(sub, v, f"{_prefix}{name}.") if isinstance(v, dict) else v for v in value]
        else:
            _check_restricted(hints[name], value, f"{_prefix}{name}")
            value = _plain(value)
        kwargs[name] = value
    return config_cls(**kwargs)


def _plain(value: Any) -> Any:
    """A restricted-type value (jsonargparse returns e.g. a `PositiveFloat` for `--optim.lr 0.01`) as its
    builtin type, so it pickles as one: torch.load(weights_only=True) refuses other classes in a checkpoint
    (an optimizer's lr), and a YAML dump writes a plain number."""
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    for base in (bool, int, float, str):  # bool first: True is an int too, and must stay True
        if isinstance(value, base):
            return value if type(value) is base else base(value)
    return value


def _check_restricted(hint: Any, value: Any, key: str) -> None:
    """Apply a jsonargparse restricted type or an Enum (also inside `X | None`, `list[X]` and `tuple[X, Y]`) to a value."""
    if typing.get_origin(hint) in (list, tuple) and isinstance(value, (list, tuple)):
        args = typing.get_args(hint)
        for i, item in enumerate(value):
            _check_restricted(args[0] if typing.get_origin(hint) is list or args[-1] is Ellipsis else args[i], item, key)
        return
    for candidate in (hint, *typing.get_args(hint)):
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum) and value is not None:
            try:
                candidate(value)
            except ValueError:
                raise ValueError(f"--{key}: {value!r} is not one of {[m.value for m in candidate]}") from None
        if isinstance(candidate, type) and candidate.__module__ == "jsonargparse.typing" and value is not None:
            try:
                candidate(value)
            except ValueError as err:
                raise ValueError(f"--{key}: {err}") from None


def _dataclass_type(hint: Any) -> type | None:
    """The dataclass a field holds: `X`, `X | None` or `list[X]`."""
    candidates = [hint, *typing.get_args(hint)]
    return next((c for c in candidates if dataclasses.is_dataclass(c)), None)


def to_dict(cfg: Any) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))


def to_yaml(cfg: Any) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def load_yaml(path: str) -> dict[str, Any]:
    """A YAML config file, within the size and alias-expansion limits of dreamframe/safe_yaml.py."""
    return load_yaml_file(path) or {}


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _ignored(key: str, ignore: tuple[str, ...]) -> bool:
    """`key` is one of `ignore` or lies below one (`llm.price` covers `llm.price.input`, not `llm.prices`)."""
    return any(key == p or key.startswith(p + ".") for p in ignore)


def config_diff(old: dict[str, Any], new: dict[str, Any], ignore: Iterable[str] = ()) -> list[str]:
    """Dotted keys whose values differ, as 'key: old -> new' lines, leaving out `ignore` keys and their children."""
    a, b = _flatten(old), _flatten(new)
    ignore = tuple(ignore)
    keys = sorted(k for k in set(a) | set(b) if not _ignored(k, ignore) and a.get(k) != b.get(k))
    return [f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in keys]
