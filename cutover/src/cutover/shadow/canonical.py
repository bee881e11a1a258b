"""Canonical JSON, the form two bodies are compared in: sorted keys, no spaces, the route's
ignored paths removed and its unordered lists sorted, so equal answers give equal text however
each framework spelled them."""

from __future__ import annotations

import json
from typing import Any

from cutover.shadow.paths import Matcher, Node


class UnorderedList(list[Any]):
    """A list compared as a multiset: sorted by canonical form, diffed by membership."""

    __slots__ = ()


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_text(value: Any) -> str:
    """The canonical JSON text of `value`: sorted keys, no spaces, no ASCII escaping."""
    return _ENCODER.encode(value)


def _order(item: Any) -> tuple[int, Any]:
    """The sort key of an unordered list's item: a one-to-one function of its canonical text
    (so both sides sort alike), cheap for scalars."""
    kind = type(item)
    if kind is str:
        return (0, item)
    if kind is int:
        return (1, item)
    if kind is float:
        return (2, repr(item))  # by text: -0.0 and 0.0 apart, NaN in one place
    if item is None or kind is bool:
        return (3, repr(item))
    return (4, canonical_text(item))


def prepare(value: Any, matcher: Matcher | None) -> Any:
    """Parsed JSON `value` with the rules applied (ignored nodes removed, unordered lists
    sorted), changed in place: the caller parsed it and owns it. The root is never ignored."""
    if matcher is None or type(value) not in (dict, list):
        return value
    return _apply(value, matcher.start, matcher)


def _apply(value: dict[str, Any] | list[Any], node: Node, matcher: Matcher) -> Any:
    """Object or list `value`, at `node` (not ignored), with the rules applied below it."""
    if isinstance(value, dict):
        dropped = []
        for key in list(value) if node.keys is None else node.keys:
            if key not in value:
                continue
            child = matcher.child(node, key)
            if child is None:
                continue
            if child.ignored:
                dropped.append(key)
                continue
            item = value[key]
            if type(item) is dict or type(item) is list:
                new = _apply(item, child, matcher)
                if new is not item:
                    value[key] = new
        for key in dropped:
            del value[key]
        return value
    if node.indexes:
        items = []
        by_index = matcher.has_index
        for index, item in enumerate(value):
            child = matcher.child(node, index if by_index else -1)
            if child is not None:
                if child.ignored:
                    continue
                if type(item) is dict or type(item) is list:
                    item = _apply(item, child, matcher)
            items.append(item)
        value[:] = items
    return UnorderedList(sorted(value, key=_order)) if node.unordered else value
