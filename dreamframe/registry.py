"""One small registry for the kinds that plug in: benchmarks, story writers, model families.

A registry maps a name to where its factory lives ("package.module:attribute", or a whole module)
and imports it only when that name is asked for, so `--help` and config checks stay instant and a
broken plug-in breaks only its own name. Each kind states what a plug-in must offer: a
`typing.Protocol` (a benchmark module, a story writer: every member must be there, and a data member
annotated with a class must be an instance of it), or a base class (`subclass=True`, a model family:
the plug-in must subclass it and implement every abstract method). `load` checks the imported object
and names what is missing, so a half-written plug-in fails when it is picked, not deep inside a run.

    WRITERS: Registry[type[StoryWriter]] = Registry("story writer", StoryWriter, option="story.backend")
    WRITERS.add("llm", "data_gen.story.llm_run:LLMStoryWriter")
    WRITERS.check(cfg.story.backend)        # an unknown name: error naming the option and the known names
    writer = WRITERS.load("llm")(cfg)       # imported here, checked against StoryWriter

Where each kind registers: benchmarks in `eval/tasks/<bench>/benchmark.yaml` (found by folder),
story writers in `data_gen/story/writers.py`, model families in `models/registry.py`.
"""

from __future__ import annotations

import importlib
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class RegistryError(ValueError):
    """An unknown name, a name registered twice, or a plug-in that does not offer its kind's members."""


@dataclass(frozen=True)
class Registered:
    """One name: where its factory lives, what the kind records beside it, and who registered it."""

    name: str
    target: str
    """`package.module:attribute`, or `package.module` for a module that is the plug-in itself."""
    info: Mapping[str, Any] = field(default_factory=dict)
    """What the kind keeps beside the factory (a benchmark's folder, a family's transformers model_type)."""
    declared_in: str = ""
    """The file that registered it, named in errors."""


def protocol_members(protocol: type) -> list[str]:
    """The attributes and methods a Protocol asks for (typing.get_protocol_members is Python 3.13+)."""
    names = set(getattr(protocol, "__annotations__", {}))
    names |= {n for n, v in vars(protocol).items() if callable(v) or isinstance(v, (classmethod, staticmethod, property))}
    return sorted(n for n in names if not n.startswith("_"))


def _classes(hint: Any) -> tuple[type, ...] | None:
    """The classes a value of type `hint` may be an instance of (`X | None` -> (X, NoneType)); None when the
    hint is not that simple (Any, a TypeVar, a Literal)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        parts = [_classes(arg) for arg in typing.get_args(hint)]
        return None if any(p is None for p in parts) else tuple(c for p in parts for c in p or ())
    cls = origin or hint
    return (cls,) if isinstance(cls, type) else None


def _wrong_types(protocol: type, obj: Any) -> list[str]:
    """'NAME (a X, not Y)' for each data member the Protocol annotates with a class that `obj` holds
    something else in (hints that are not simple classes are left to the presence check)."""
    try:
        hints = typing.get_type_hints(protocol)
    except (NameError, TypeError):  # a hint naming something not importable here: presence is checked anyway
        return []
    wrong = []
    for name, hint in hints.items():
        classes = _classes(hint)
        if classes and hasattr(obj, name) and not isinstance(getattr(obj, name), classes):
            want = " | ".join(c.__name__ for c in classes)
            wrong.append(f"{name} (a {want}, not {type(getattr(obj, name)).__name__})")
    return wrong


class Registry(Generic[T]):
    """name -> lazily imported factory of one kind, checked against the kind's contract on load: a Protocol,
    or with `subclass=True` a base class whose abstract methods the plug-in must all implement."""

    def __init__(self, kind: str, protocol: type, option: str, subclass: bool = False):
        self.kind, self.protocol, self.option, self.subclass = kind, protocol, option, subclass
        self._entries: dict[str, Registered] = {}

    def add(self, name: str, target: str, declared_in: str = "", **info: Any) -> None:
        if name in self._entries:
            first = self._entries[name]
            raise RegistryError(f"{self.kind} {name!r} is registered twice: {first.target} "
                                f"({first.declared_in or 'in code'}) and {target} ({declared_in or 'in code'})")
        if not target or target.count(":") > 1:
            raise RegistryError(f"{declared_in or self.kind}: {name!r} -> {target!r} is not 'package.module[:attribute]'")
        self._entries[name] = Registered(name, target, MappingProxyType(dict(info)), declared_in)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[Registered]:
        return list(self._entries.values())

    def entry(self, name: str) -> Registered:
        """The registration of `name` (nothing imported); an unknown name names the option and the known ones."""
        self.check(name)
        return self._entries[name]

    def check(self, name: str) -> None:
        if name not in self._entries:
            raise RegistryError(f"{self.option}={name!r} is not a known {self.kind}; known: {', '.join(self._entries)}")

    def load(self, name: str) -> T:
        """Import the factory of `name` and check it offers every member of the kind's Protocol."""
        entry = self.entry(name)
        module_name, _, attribute = entry.target.partition(":")
        obj: Any = importlib.import_module(module_name)
        if attribute:
            try:
                obj = getattr(obj, attribute)
            except AttributeError:
                raise RegistryError(f"{self.kind} {name!r}: {module_name} has no {attribute!r} "
                                    f"(registered in {entry.declared_in or 'code'})") from None
        contract = f"{self.protocol.__module__}.{self.protocol.__name__}"
        if self.subclass and not (isinstance(obj, type) and issubclass(obj, self.protocol)):
            raise RegistryError(f"{self.kind} {name!r} ({entry.target}) is not a subclass of {contract}")
        if self.subclass:
            missing = sorted(getattr(obj, "__abstractmethods__", ()))
        else:
            missing = [m for m in protocol_members(self.protocol) if not hasattr(obj, m)] or \
                _wrong_types(self.protocol, obj)
        if missing:
            raise RegistryError(f"{self.kind} {name!r} ({entry.target}) lacks {', '.join(missing)} of {contract}")
        return obj
