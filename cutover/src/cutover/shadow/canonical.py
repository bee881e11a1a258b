"""Canonical JSON, the form two bodies are compared in: sorted keys, no spaces, the route's
ignored paths removed and its unordered lists sorted, so equal answers give equal text however
each framework spelled them."""

from __future__ import annotations

import json
from typing import Any

from cutover.shadow.paths import Matcher, State


class UnorderedList(list[Any]):
    """A list compared as a multiset: sorted by canonical form, diffed by membership."""

    __slots__ = ()


_DROP = object()  # what an ignored node becomes, removed from its parent


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
    if matcher is None:
        return value
    return _apply(value, matcher.start, matcher)


def _apply(value: Any, state: State, matcher: Matcher) -> Any:
    """`value`, at a node in `state`, with the rules applied below it."""
    ignored, unordered = matcher.flags(state)
    if ignored:
        return _DROP
    kind = type(value)
    if kind is not dict and kind is not list:
        return value
    keys, indexes = matcher.below(state)
    if kind is dict:
        dropped = []
        for key in list(value) if keys is None else keys & value.keys():
            child = matcher.child(state, key)
            if child:
                item = value[key]
                new = _apply(item, child, matcher)
                if new is _DROP:
                    dropped.append(key)
                elif new is not item:
                    value[key] = new
        for key in dropped:
            del value[key]
        return value
    if indexes:
        items = []
        for index, item in enumerate(value):
            child = matcher.child(state, index)
            new = _apply(item, child, matcher) if child else item
            if new is not _DROP:
                items.append(new)
        value[:] = items
    return UnorderedList(sorted(value, key=_order)) if unordered else value
