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


_State = frozenset[tuple[int, int]]  # (rule number, segments of it matched so far)
_MEMO_LIMIT = 10_000  # children remembered per node: objects keyed by data have ever new keys


class Node:
    """Where the rules stand at one node of a document: the rules still able to match below
    it, whether one ignores it or makes it an unordered list, which children any rule can reach
    (object keys, None for any; whether any index), and the nodes already found below."""

    __slots__ = ("children", "ignored", "indexes", "keys", "state", "unordered")

    def __init__(self, matcher: Matcher, state: _State) -> None:
        self.state = state
        self.ignored = self.unordered = self.indexes = False
        keys: set[str] | None = set()
        for number, done in state:
            rule = matcher.rules[number]
            if done == len(rule):
                if number < matcher.unordered_from:
                    self.ignored = True
                else:
                    self.unordered = True
                continue
            seg = rule[done]
            if seg.descend or (seg.key is None and seg.index is None):
                keys, self.indexes = None, True
            elif seg.key is not None and keys is not None:
                keys.add(seg.key)
            else:
                self.indexes = True
        self.keys = None if keys is None else tuple(sorted(keys))
        self.children: dict[Step, Node | None] = {}


class Matcher:
    """The rules of one `CompareRules`, followed down a document one step at a time; a child
    no rule can reach is None, so the walk skips its whole subtree."""

    def __init__(self, rules: tuple[tuple[_Segment, ...], ...], unordered_from: int) -> None:
        self.rules = rules
        self.unordered_from = unordered_from  # rules[:n] ignore, rules[n:] mark unordered lists
        self.has_index = any(seg.index is not None for rule in rules for seg in rule)
        self._nodes: dict[_State, Node] = {}
        self.start = self._node(frozenset((number, 0) for number in range(len(rules))))

    def _node(self, state: _State) -> Node:
        """The one node for `state` (there are few: subsets of the rules' positions)."""
        node = self._nodes.get(state)
        if node is None:
            node = self._nodes[state] = Node(self, state)
        return node

    def child(self, node: Node, step: Step) -> Node | None:
        """The node one step below `node`, by key or index (`-1` for any index when no rule
        names one), or None when no rule reaches it."""
        if step in node.children:
            return node.children[step]
        result: set[tuple[int, int]] = set()
        for number, done in node.state:
            rule = self.rules[number]
            if done == len(rule):
                continue  # matched above: ignored subtrees are dropped whole
            seg = rule[done]
            if seg.descend:
                result.add((number, done))
            if seg.matches(step):
                result.add((number, done + 1))
        below = self._node(frozenset(result)) if result else None
        if len(node.children) < _MEMO_LIMIT:
            node.children[step] = below
        return below
