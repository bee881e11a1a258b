"""JSON paths as the comparison writes and reads them: `$.items[3].price` for one difference,
`$.items[*].price` for its group, and ignore/unordered rules with wildcards (`$.meta.*`,
`$.items[*].updated_at`, `$..etag`) matched while a body is walked, never by string matching.

Grammar of a rule: `$` then any of `.name`, `['any key']` (or double quotes), `[3]`, `.*` or
`[*]` (any child, of an object or an array), and `..` before one of those (at any depth below).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROOT = "$"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# One segment of a rule, at `pos`: `..`? then `.name`, `.*`, `[*]`, `[12]` or `['key']`/`["key"]`.
_SEGMENT = re.compile(
    r"""(?P<descend>\.\.)?(?:
        (?(descend)|\.)(?P<name>[A-Za-z_][A-Za-z0-9_-]*|\*)
      | \[\s*(?:
            (?P<star>\*) | (?P<index>\d+)
          | '(?P<sq>(?:[^'\\]|\\.)*)' | "(?P<dq>(?:[^"\\]|\\.)*)"
        )\s*\]
    )""",
    re.VERBOSE,
)
_ESCAPE = re.compile(r"\\(.)")

Step = str | int  # an object key or an array index, one step down a JSON document


def key_step(key: str) -> str:
    """The path text of object key `key`: `.name` when it reads as one, else `['it\\'s']`."""
    if _IDENTIFIER.match(key):
        return "." + key
    return "['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"


def index_step(index: int) -> str:
    """The path text of array index `index`."""
    return f"[{index}]"


WILD_INDEX = "[*]"


@dataclass(frozen=True, slots=True)
class _Segment:
    """One step of a rule: a key, an index or any child (`key` and `index` None), maybe at any
    depth below (`descend`)."""

    key: str | None = None
    index: int | None = None
    descend: bool = False

    def matches(self, step: Step) -> bool:
        """Whether this segment (its own selector, not the descent) takes `step`."""
        if self.key is not None:
            return step == self.key and isinstance(step, str)
        if self.index is not None:
            return step == self.index and isinstance(step, int)
        return True


def parse_rule(rule: str) -> tuple[_Segment, ...]:
    """The segments of JSON-path `rule`, or ValueError saying where it stops making sense."""
    text = rule.strip()
    if not text.startswith(ROOT):
        raise ValueError(f"JSON-path rule {rule!r} does not start with '$'")
    segments: list[_Segment] = []
    pos = 1
    while pos < len(text):
        found = _SEGMENT.match(text, pos)
        if found is None:
            raise ValueError(f"JSON-path rule {rule!r}: cannot read {text[pos:]!r}")
        pos = found.end()
        descend = found["descend"] is not None
        name, quoted = found["name"], found["sq"] if found["sq"] is not None else found["dq"]
        if found["star"] is not None or name == "*":
            segments.append(_Segment(descend=descend))
        elif found["index"] is not None:
            segments.append(_Segment(index=int(found["index"]), descend=descend))
        elif quoted is not None:
            segments.append(_Segment(key=_ESCAPE.sub(r"\1", quoted), descend=descend))
        else:
            segments.append(_Segment(key=name, descend=descend))
    return tuple(segments)


def collapse(path: str) -> str:
    """`path` with every array index written as `[*]`: the form differences are grouped by.

    A path that is not a JSON path (`status`, `header:location`, `body`) is its own group.
    """
    if not path.startswith(ROOT) or "[" not in path:
        return path
    return ROOT + "".join(
        WILD_INDEX if seg.index is not None else _segment_text(seg) for seg in parse_rule(path)
    )


def _segment_text(seg: _Segment) -> str:
    """The canonical text of one parsed segment."""
    prefix = ".." if seg.descend else ""
    if seg.key is not None:
        text = key_step(seg.key)
        return prefix + text[1:] if prefix and text.startswith(".") else prefix + text
    if seg.index is not None:
        return prefix + index_step(seg.index)
    return prefix + ("*" if prefix else WILD_INDEX)


def format_rule(rule: str) -> str:
    """`rule` written canonically (`$["a"][*]` -> `$.a[*]`), after checking it parses."""
    return ROOT + "".join(_segment_text(seg) for seg in parse_rule(rule))


State = frozenset[tuple[int, int]]  # (rule number, segments of it matched so far)
_MEMO_LIMIT = 50_000


class Matcher:
    """The rules of one `CompareRules`, followed down a document one step at a time: a state is
    the set of rules still able to match below the current node, so an empty state means no
    rule can touch the subtree and the walk may skip it."""

    def __init__(self, rules: tuple[tuple[_Segment, ...], ...], unordered_from: int) -> None:
        self.rules = rules
        self.unordered_from = unordered_from  # rules[:n] ignore, rules[n:] mark unordered lists
        self.start: State = frozenset((number, 0) for number in range(len(rules)))
        self._has_index = any(seg.index is not None for rule in rules for seg in rule)
        self._children: dict[tuple[State, Step], State] = {}
        self._flags: dict[State, tuple[bool, bool]] = {}
        self._next: dict[State, tuple[frozenset[str] | None, bool]] = {}

    def child(self, state: State, step: Step) -> State:
        """The state one step below a node in `state`, by key or index `step`."""
        if isinstance(step, int) and not self._has_index:
            step = -1  # no rule names an index: every index leads to the same state
        memo_key = (state, step)
        found = self._children.get(memo_key)
        if found is not None:
            return found
        result: set[tuple[int, int]] = set()
        for number, done in state:
            rule = self.rules[number]
            if done == len(rule):
                continue  # matched above: ignored subtrees are dropped whole
            seg = rule[done]
            if seg.descend:
                result.add((number, done))
            if seg.matches(step):
                result.add((number, done + 1))
        found = frozenset(result)
        if len(self._children) >= _MEMO_LIMIT:
            self._children.clear()  # documents with ever new keys; the memo only saves time
        self._children[memo_key] = found
        return found

    def flags(self, state: State) -> tuple[bool, bool]:
        """Whether a node in `state` is ignored, and whether it is an unordered list."""
        found = self._flags.get(state)
        if found is None:
            ignored = unordered = False
            for number, done in state:
                if done == len(self.rules[number]):
                    if number < self.unordered_from:
                        ignored = True
                    else:
                        unordered = True
            found = (ignored, unordered)
            if len(self._flags) >= _MEMO_LIMIT:
                self._flags.clear()
            self._flags[state] = found
        return found

    def below(self, state: State) -> tuple[frozenset[str] | None, bool]:
        """Which children of a node in `state` a rule can reach: the object keys (None: any)
        and whether any array index."""
        found = self._next.get(state)
        if found is None:
            keys: set[str] | None = set()
            indexes = False
            for number, done in state:
                rule = self.rules[number]
                if done == len(rule):
                    continue
                seg = rule[done]
                if seg.descend or (seg.key is None and seg.index is None):
                    keys, indexes = None, True
                    break
                if seg.key is not None and keys is not None:
                    keys.add(seg.key)
                indexes = indexes or seg.index is not None
            found = (None if keys is None else frozenset(keys), indexes)
            if len(self._next) >= _MEMO_LIMIT:
                self._next.clear()
            self._next[state] = found
        return found
