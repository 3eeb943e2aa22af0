"""Read YAML records safely, keeping the line and column of every value.

PyYAML composes the document into nodes (no object construction, so no
``!!python/object`` can ever run); we then build plain Python values from the
nodes ourselves.  That gives us, for each value, the mark of where it was
written, and lets us refuse what a record must never contain: tags other
than the standard ones, duplicate keys, alias expansion without bound.
Numbers with a fraction become exact ``Decimal`` values, never floats.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import yaml

from .problems import Problem

MAX_BYTES = 1 << 20          # a record of the form is a few KiB; 1 MiB is generous
MAX_NODES = 20_000           # values built from one file, aliases included
MAX_INT_DIGITS = 15          # numbers: up to 999 999 999 999 999 (万元 or 元) …
MAX_FRACTION_DIGITS = 10     # … with up to 10 digits after the point; beyond that
                             # Decimal overflows (1e+999999999) or formats to a
                             # billion characters (1e-999999999)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_SCALARS = {_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP}


_NO_MARKS: Mapping = MappingProxyType({})


@dataclass
class Loaded:
    """One file's data with the marks of its values.

    ``marks`` maps a path such as ``("funds", "annual")`` or
    ``("indicators", 2, "target")`` to the (line, col) of its value,
    ``key_marks`` to the (line, col) of its key.  Both are 1-based.
    """
    path: str
    data: object = None
    marks: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[tuple, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def unmarked(cls, path: str) -> "Loaded":
        """A file known to be valid, without its data or marks (read again if a check
        across files needs them)."""
        return cls(path, None, _NO_MARKS, _NO_MARKS)

    def mark(self, loc: tuple) -> tuple[int, int]:
        """The best mark for ``loc``: its key, its value, or the nearest parent."""
        loc = tuple(loc)
        while loc:
            if loc in self.key_marks:
                return self.key_marks[loc]
            if loc in self.marks:
                return self.marks[loc]
            loc = loc[:-1]
        return self.marks.get((), (1, 1))

    def value_mark(self, loc: tuple) -> tuple[int, int]:
        loc = tuple(loc)
        return self.marks.get(loc) or self.mark(loc)


class _Stop(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


def _at(mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, path: str):
        self.path = path
        self.count = 0
        self.open: set[int] = set()       # nodes being built: a cycle means a recursive alias
        self.loaded = Loaded(path)

    def fail(self, node, message: str, loc: tuple = ()) -> None:
        line, col = _at(node.start_mark)
        raise _Stop(Problem(self.path, line, col, _dotted(loc), message))

    def build(self, node, loc: tuple = ()):
        self.count += 1
        if self.count > MAX_NODES:
            self.fail(node, f"too many values (more than {MAX_NODES}); "
                            "aliases that expand without bound are refused")
        self.loaded.marks.setdefault(loc, _at(node.start_mark))
        if id(node) in self.open:
            self.fail(node, "an alias refers to the value that contains it (recursive)", loc)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            self.open.add(id(node))
            try:
                return self._collection(node, loc)
            finally:
                self.open.discard(id(node))
        if node.tag not in _SCALARS:
            self.fail(node, f"tag {_short(node.tag)!r} is not allowed", loc)
        value = _scalar(node)
        if isinstance(value, str):
            bad = _CONTROL.search(value)
            if bad:
                self.fail(node, f"text holds U+{ord(bad.group()):04X}, a control character "
                                "or lone surrogate that no page can show; remove it", loc)
        elif isinstance(value, Decimal) and value.is_finite() or \
                isinstance(value, int) and not isinstance(value, bool):
            if not in_range(value):
                self.fail(node, f"number {_clip(node.value)} is out of range (at most "
                                f"{MAX_INT_DIGITS} digits before the point and "
                                f"{MAX_FRACTION_DIGITS} after)", loc)
        return value

    def _collection(self, node, loc: tuple):
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                self.fail(node, f"tag {_short(node.tag)!r} is not allowed", loc)
            out: dict = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.fail(key_node, "merge keys (<<) are not allowed", loc)
                if not isinstance(key_node, yaml.ScalarNode):
                    self.fail(key_node, "a key must be plain text", loc)
                key = key_node.value
                if key in out:
                    first = self.loaded.key_marks[loc + (key,)]
                    self.fail(key_node, f"duplicate key {key!r} (first at line {first[0]})",
                              loc + (key,))
                self.loaded.key_marks[loc + (key,)] = _at(key_node.start_mark)
                out[key] = self.build(value_node, loc + (key,))
            return out
        if node.tag != _SEQ:
            self.fail(node, f"tag {_short(node.tag)!r} is not allowed", loc)
        return [self.build(item, loc + (i,)) for i, item in enumerate(node.value)]


def in_range(value: int | Decimal) -> bool:
    """At most MAX_INT_DIGITS digits before the point and MAX_FRACTION_DIGITS after —
    zero included (``0E-999999999`` is zero, and formats to a billion characters)."""
    if isinstance(value, int):
        return -10 ** MAX_INT_DIGITS < value < 10 ** MAX_INT_DIGITS
    return value.adjusted() < MAX_INT_DIGITS and value.as_tuple().exponent >= -MAX_FRACTION_DIGITS


def _clip(text: str) -> str:
    return text if len(text) <= 30 else text[:30] + "…"


def _short(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _scalar(node: yaml.ScalarNode):
    text = node.value
    if node.tag == _STR or node.tag == _TIMESTAMP:
        return text                      # dates are parsed by the model
    if node.tag == _NULL:
        return None
    if node.tag == _BOOL:
        return text.lower() in ("true", "yes", "on", "y")
    if node.tag == _INT:
        clean = text.replace("_", "")
        try:
            return int(clean, 0) if not re.fullmatch(r"[-+]?0\d+", clean) else int(clean, 8)
        except ValueError:
            return text
    # float: keep every digit the publisher wrote
    clean = text.replace("_", "")
    try:
        return Decimal(clean)
    except ArithmeticError:
        return text


def _dotted(loc: tuple) -> str:
    """``("indicators", 2, "target")`` → ``indicators[3].target`` (1-based)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def field_name(loc: tuple) -> str:
    return _dotted(loc)


_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _compose(text: str):
    """Compose with libyaml when present (≈ 20× faster); any error is composed again by the
    pure-Python loader, whose messages and marks are the ones publishers see."""
    if _FAST_LOADER is not None and "\t" not in text:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def load_yaml(path: Path, shown: str | None = None, raw: bytes | None = None
              ) -> tuple[Loaded | None, list[Problem]]:
    """Load one YAML file (``raw``: its bytes, when already read).
    Returns (loaded, []) or (None, [problem])."""
    shown = shown or str(path)
    if raw is None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            return None, [Problem(shown, 1, 1, "", f"cannot read file: {exc.strerror}")]
    if len(raw) > MAX_BYTES:
        return None, [Problem(shown, 1, 1, "",
                              f"file is too large ({len(raw)} bytes; the limit is {MAX_BYTES})")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        return None, [Problem(shown, line, col, "",
                              f"file is not UTF-8 (byte 0x{raw[exc.start]:02x}); "
                              "save it as UTF-8")]
    text = text.removeprefix("\ufeff")
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = exc.problem or "invalid YAML"
        if "'\\t'" in message:
            message = "tab character: YAML indents with spaces only"
        elif exc.context and exc.context_mark and exc.context_mark is not mark:
            opened = exc.context_mark
            message += f" ({exc.context.removeprefix('while ')} from {opened.line + 1}:{opened.column + 1})"
        return None, [Problem(shown, line, col, "", f"YAML syntax: {message}")]
    except yaml.reader.ReaderError as exc:         # a character YAML refuses, e.g. NUL
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return None, [Problem(shown, line, col, "",
                              f"YAML: the control character U+{code:04X} is not allowed; remove it")]
    except yaml.YAMLError as exc:
        return None, [Problem(shown, 1, 1, "", f"YAML: {exc}")]
    except RecursionError:
        return None, [Problem(shown, 1, 1, "", "values nested too deeply")]
    if node is None:
        return None, [Problem(shown, 1, 1, "", "file is empty")]
    builder = _Builder(shown)
    try:
        builder.loaded.data = builder.build(node)
    except _Stop as stop:
        return None, [stop.problem]
    except RecursionError:
        return None, [Problem(shown, 1, 1, "", "values nested too deeply")]
    return builder.loaded, []
