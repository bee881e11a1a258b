"""The field-level diff, built only once canonical bodies differ: the walk that names each
differing path (capped, redacted), and the first differing offset of bodies that are not JSON."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from cutover.shadow.canonical import UnorderedList, canonical_text
from cutover.shadow.paths import ROOT, WILD_INDEX, collapse, key_step
from cutover.shadow.redact import REDACTED, is_secret_name, redact_json

Kind = Literal["changed", "added", "removed", "type"]
# The most distinct groups one comparison collects; past it the walk stops (keys made of data,
# such as ids, would otherwise make one group per key).
MAX_GROUPS = 1000
_CHUNK = 4096
_PREVIEW = 120


@dataclass(frozen=True, slots=True)
class Difference:
    """One way the candidate's answer differs from the primary's, values already redacted.

    `path` is `status`, `header:<name>`, `body` (bodies compared as bytes: `primary` and
    `candidate` are their sizes and `offset` the first differing byte) or a JSON path. `removed`
    means the candidate lacks what the primary has, `added` the reverse; `type` that the JSON
    types differ (`1` and `1.0` are an int and a float: clients decode them differently).
    """

    path: str
    kind: Kind
    primary: Any
    candidate: Any
    offset: int | None = None

    @property
    def group(self) -> str:
        """The path with array indexes collapsed, the form differences are grouped by."""
        return collapse(self.path)

    def to_json(self) -> dict[str, Any]:
        """The difference as a JSON object, for storage."""
        document = {
            "path": self.path,
            "kind": self.kind,
            "primary": self.primary,
            "candidate": self.candidate,
        }
        if self.offset is not None:
            document["offset"] = self.offset
        return document

    def describe(self) -> str:
        """One line a developer reads: `$.items[3].price changed: 10 -> 11`."""
        if self.path == "body" and self.kind == "changed":
            return (
                f"body changed: {self.primary} bytes -> {self.candidate} bytes, "
                f"first difference at byte {self.offset}"
            )
        if self.kind == "removed":
            return f"{self.path} removed (was {_preview(self.primary)})"
        if self.kind == "added":
            return f"{self.path} added: {_preview(self.candidate)}"
        return f"{self.path} {self.kind}: {_preview(self.primary)} -> {_preview(self.candidate)}"


def _preview(value: Any) -> str:
    """`value` as JSON text, cut to a readable length."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=repr)
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 3] + "..."


class Collector:
    """Differences as a comparison finds them: the first `cap` kept (redacted), and the groups
    (collapsed path and kind) of all of them, so the shape does not depend on the cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.differences: list[Difference] = []
        self.paths: set[str] = set()
        self.shape: set[str] = set()
        self.count = 0
        self.full = False  # MAX_GROUPS reached: the walk stops, the shape is incomplete

    @property
    def truncated(self) -> bool:
        """Whether differences were found beyond those kept."""
        return self.count > len(self.differences) or self.full

    def add(
        self,
        path: str,
        group: str,
        kind: Kind,
        primary: Any,
        candidate: Any,
        *,
        secret: bool = False,
        offset: int | None = None,
        entry: str | None = None,
    ) -> None:
        """Record one difference; `secret` when its path runs through a secret-named field."""
        if group not in self.paths and len(self.paths) >= MAX_GROUPS:
            self.full = True
            return
        self.count += 1
        self.paths.add(group)
        self.shape.add(entry if entry is not None else f"{group} {kind}")
        if len(self.differences) < self.cap:
            if secret:
                primary, candidate = _hidden(primary), _hidden(candidate)
            else:
                primary, candidate = redact_json(primary), redact_json(candidate)
            self.differences.append(Difference(path, kind, primary, candidate, offset))


def _hidden(value: Any) -> Any:
    """A value under a secret-named field as it may be shown: null stays null."""
    return None if value is None else REDACTED


def diff_json(primary: Any, candidate: Any, candidate_text: str, out: Collector) -> None:
    """Add the differences between two prepared JSON values whose canonical texts differ
    (`candidate_text` is the candidate's). `primary` is patched in place as it is walked.

    The walk skips subtrees that are `==` (C speed), which holds `1`, `1.0` and `true` equal
    and `0.0` equal to `-0.0`. It turns `primary` into the candidate at each difference it
    reports, so one more canonical text shows whether `==` hid any; only then is the patched
    value walked again, comparing subtrees by canonical text.
    """
    patched = _walk(primary, candidate, ROOT, ROOT, False, out, strict=False)
    if not out.full and canonical_text(patched) != candidate_text:
        _walk(patched, candidate, ROOT, ROOT, False, out, strict=True)


_CONTAINERS = (dict, list, UnorderedList)


def _same(primary: Any, candidate: Any, strict: bool) -> bool:
    """Whether a subtree can be skipped: `==`, and in the strict walk the same canonical text."""
    kind = type(primary)
    if kind is not type(candidate) or primary != candidate:
        return False
    if not strict:
        return True
    if kind in _CONTAINERS:
        return canonical_text(primary) == canonical_text(candidate)
    return kind is not float or repr(primary) == repr(candidate)


def _walk(
    primary: Any,
    candidate: Any,
    path: str,
    group: str,
    secret: bool,
    out: Collector,
    strict: bool,
) -> Any:
    """Add the differences below one node, in sorted-key and index order; return what the
    primary's node becomes once patched (itself, changed in place, or the candidate's)."""
    if out.full or _same(primary, candidate, strict):
        return primary
    kind = type(primary)
    if kind is not type(candidate):
        out.add(path, group, "type", primary, candidate, secret=secret)
        return candidate
    if kind is dict:
        _walk_object(primary, candidate, path, group, secret, out, strict)
        return primary
    if kind is list:
        _walk_list(primary, candidate, path, group, secret, out, strict)
        return primary
    if kind is UnorderedList:
        _walk_multiset(primary, candidate, path + WILD_INDEX, group + WILD_INDEX, secret, out)
        return candidate
    if kind is float and primary != primary and candidate != candidate:
        return primary  # NaN on both sides: the same text, though never `==`
    out.add(path, group, "changed", primary, candidate, secret=secret)
    return candidate


def _walk_object(
    primary: dict[str, Any],
    candidate: dict[str, Any],
    path: str,
    group: str,
    secret: bool,
    out: Collector,
    strict: bool,
) -> None:
    """Add the differences of an object, key by key in sorted order, patching `primary`."""
    for key in sorted(primary.keys() | candidate.keys()):
        step = key_step(key)
        below = secret or is_secret_name(key)
        if key not in candidate:
            out.add(path + step, group + step, "removed", primary.pop(key), None, secret=below)
        elif key not in primary:
            primary[key] = candidate[key]
            out.add(path + step, group + step, "added", None, candidate[key], secret=below)
        else:
            old = primary[key]
            new = _walk(old, candidate[key], path + step, group + step, below, out, strict)
            if new is not old:
                primary[key] = new
        if out.full:
            return


def _walk_list(
    primary: list[Any],
    candidate: list[Any],
    path: str,
    group: str,
    secret: bool,
    out: Collector,
    strict: bool,
) -> None:
    """Add the differences of an ordered list, index by index, then its extra items."""
    below = group + WILD_INDEX
    common = min(len(primary), len(candidate))
    for index in range(common):
        old = primary[index]
        new = _walk(old, candidate[index], f"{path}[{index}]", below, secret, out, strict)
        if new is not old:
            primary[index] = new
        if out.full:
            return
    for index in range(common, len(primary)):
        out.add(f"{path}[{index}]", below, "removed", primary[index], None, secret=secret)
    for index in range(common, len(candidate)):
        out.add(f"{path}[{index}]", below, "added", None, candidate[index], secret=secret)
    primary[common:] = candidate[common:]


def _walk_multiset(
    primary: list[Any], candidate: list[Any], path: str, group: str, secret: bool, out: Collector
) -> None:
    """Add the items one unordered list has more often than the other, at `path` (`[*]`)."""
    texts: dict[str, Any] = {}
    counts: list[Counter[str]] = []
    for items in (primary, candidate):
        count: Counter[str] = Counter()
        for item in items:
            text = canonical_text(item)
            texts.setdefault(text, item)
            count[text] += 1
        counts.append(count)
    removed, added = counts[0] - counts[1], counts[1] - counts[0]
    for text in sorted(removed.elements()):
        out.add(path, group, "removed", texts[text], None, secret=secret)
    for text in sorted(added.elements()):
        out.add(path, group, "added", None, texts[text], secret=secret)


def first_difference(primary: bytes, candidate: bytes) -> int:
    """The offset of the first byte where two bodies differ (the shorter's length if one is a
    prefix of the other), found chunk by chunk at C speed."""
    end = min(len(primary), len(candidate))
    for start in range(0, end, _CHUNK):
        stop = min(start + _CHUNK, end)
        if primary[start:stop] != candidate[start:stop]:
            return next(i for i in range(start, stop) if primary[i] != candidate[i])
    return end
