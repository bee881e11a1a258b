"""Comparison of two answers to one request, run by the shadow off the request path: status,
the headers that matter and the body (JSON canonicalised, compared as canonical text first and
diffed field by field only on a mismatch; other bodies by bytes)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from cutover.shadow.answer import Answer
from cutover.shadow.canonical import canonical_text, prepare
from cutover.shadow.diff import Collector, Difference, diff_json, first_difference
from cutover.shadow.headers import HEADER, compare_headers, is_json, media_type
from cutover.shadow.paths import ROOT, Matcher, collapse, format_rule, parse_rule

DEFAULT_HEADERS = frozenset(
    {"content-type", "location", "cache-control", "allow", "www-authenticate"}
)
DEFAULT_MAX_DIFFERENCES = 50
STATUS = "status"
BODY = "body"


@dataclass(frozen=True, slots=True)
class CompareRules:
    """How one route's two answers are compared; built (and its rules checked) once per route.

    `headers`: names whose values must agree. `cookie_names`: the names of the cookies set by
    Set-Cookie must agree (their values are per session); put `set-cookie` in `headers` to
    compare whole values. `ignore`: JSON-path rules (`$.items[*].updated_at`, `$.meta.*`,
    `$..etag`) and `status`, `body` or `header:<name>`, so every path a comparison reports is
    a rule that hides it. `unordered`: JSON paths of lists compared as multisets.
    `max_differences`: how many differences one comparison keeps.
    """

    headers: Collection[str] = DEFAULT_HEADERS
    cookie_names: bool = True
    ignore: Sequence[str] = ()
    unordered: Sequence[str] = ()
    max_differences: int = DEFAULT_MAX_DIFFERENCES
    _matcher: Matcher | None = field(init=False, repr=False, compare=False)
    _ignored: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        headers = frozenset(name.strip().lower() for name in _strings(self.headers))
        ignore, unordered = tuple(_strings(self.ignore)), tuple(_strings(self.unordered))
        if self.max_differences < 1:
            raise ValueError("max_differences must be at least 1")
        ignored: set[str] = set()
        json_rules = []
        for rule in ignore:
            if rule.strip().startswith(ROOT):
                json_rules.append(parse_rule(rule))
            else:
                ignored.add(_field_rule(rule))
        count = len(json_rules)
        json_rules.extend(parse_rule(rule) for rule in unordered)
        matcher = Matcher(tuple(json_rules), count) if json_rules else None
        for name, value in (
            ("headers", headers),
            ("ignore", ignore),
            ("unordered", unordered),
            ("_matcher", matcher),
            ("_ignored", frozenset(ignored)),
        ):
            object.__setattr__(self, name, value)


def _strings(values: Collection[str] | Sequence[str]) -> Sequence[str]:
    """`values` as a sequence, a lone string being one value (not its characters)."""
    return (values,) if isinstance(values, str) else tuple(values)


def _field_rule(rule: str) -> str:
    """A non-JSON ignore rule in canonical form, or ValueError."""
    text = rule.strip().lower()
    if text in (STATUS, BODY):
        return text
    if text.startswith(HEADER) and (name := text[len(HEADER) :].strip()):
        return HEADER + name
    raise ValueError(
        f"ignore rule {rule!r} is neither a JSON path ($...) nor status, body or header:<name>"
    )


DEFAULT_RULES = CompareRules()


@dataclass(frozen=True, slots=True)
class Comparison:
    """The outcome of one comparison, safe to store: differences are redacted.

    `shape` groups mismatches of the same kind: the sorted set of `<path with [*]> <kind>`
    entries (`status 200->500` for the status), over all differences, not only those kept.
    `paths` is the same set without the kinds, what noise learning and ignore rules speak.
    """

    matched: bool
    differences: tuple[Difference, ...]
    truncated: bool
    shape: tuple[str, ...]
    paths: frozenset[str]

    @property
    def shape_id(self) -> str:
        """A short stable key of `shape`, for a database column."""
        return shape_id(self.shape)

    def to_json(self) -> dict[str, Any]:
        """The comparison as a JSON object, for storage."""
        return {
            "matched": self.matched,
            "truncated": self.truncated,
            "shape": list(self.shape),
            "shape_id": self.shape_id,
            "differences": [difference.to_json() for difference in self.differences],
        }

    def report(self) -> str:
        """The differences one per line, as a developer reads them."""
        lines = [difference.describe() for difference in self.differences]
        if self.truncated:
            lines.append(f"... more differences (the first {len(self.differences)} shown)")
        return "\n".join(lines) if lines else "matched"


def shape_id(shape: Sequence[str]) -> str:
    """A short stable key of a mismatch shape (its sorted entries), for a database column."""
    return hashlib.sha256("\n".join(shape).encode()).hexdigest()[:16]


def compare(primary: Answer, candidate: Answer, rules: CompareRules = DEFAULT_RULES) -> Comparison:
    """Compare `candidate`'s answer with `primary`'s under one route's `rules`."""
    out = Collector(rules.max_differences)
    if STATUS not in rules._ignored and primary.status != candidate.status:
        entry = f"{STATUS} {primary.status}->{candidate.status}"
        out.add(STATUS, STATUS, "changed", primary.status, candidate.status, entry=entry)
    primary_headers, candidate_headers = primary.header_values(), candidate.header_values()
    compare_headers(
        primary_headers,
        candidate_headers,
        rules.headers,
        rules.cookie_names,
        rules._ignored,
        out,
    )
    if BODY not in rules._ignored and primary.body != candidate.body:
        _compare_body(primary, candidate, primary_headers, candidate_headers, rules, out)
    return Comparison(
        matched=out.count == 0 and not out.full,
        differences=tuple(out.differences),
        truncated=out.truncated,
        shape=tuple(sorted(out.shape)),
        paths=frozenset(out.paths),
    )


def noise_paths(first: Answer, second: Answer, rules: CompareRules = DEFAULT_RULES) -> set[str]:
    """The grouped paths that differ between two runs of the same side: noise, not mismatch."""
    return set(compare(first, second, rules).paths)


def suggested_rule(path: str) -> str:
    """The ignore rule that hides differences at `path` (any index), ready to paste."""
    if path.strip().startswith(ROOT):
        return format_rule(collapse(path.strip()))
    return _field_rule(path)


def _compare_body(
    primary: Answer,
    candidate: Answer,
    primary_headers: dict[str, list[str]],
    candidate_headers: dict[str, list[str]],
    rules: CompareRules,
    out: Collector,
) -> None:
    """Add the body's differences (the bodies' bytes are known to differ).

    Compared as JSON when either side's Content-Type says JSON, or when neither side has one
    and both parse; one side not parsing where JSON was declared is a `type` difference.
    """
    ours = primary_headers.get("content-type")
    theirs = candidate_headers.get("content-type")
    declared = any(is_json(media_type(values[-1])[0]) for values in (ours, theirs) if values)
    if declared or (ours is None and theirs is None):
        mine, my_error = _parse(primary.body)
        other, other_error = _parse(candidate.body)
        if my_error is None and other_error is None:
            try:
                _compare_json(mine, other, rules._matcher, out)
                return
            except RecursionError:
                pass  # nested deeper than the walk can go: compare the bytes
        elif declared and (my_error is None) != (other_error is None):
            out.add(BODY, BODY, "type", my_error or "JSON", other_error or "JSON")
            return
    offset = first_difference(primary.body, candidate.body)
    out.add(BODY, BODY, "changed", len(primary.body), len(candidate.body), offset=offset)


def _parse(body: bytes) -> tuple[Any, str | None]:
    """The JSON value of `body`, or None and why it is not JSON."""
    try:
        return json.loads(body), None
    except (ValueError, RecursionError) as error:
        return None, f"invalid JSON: {error}"


def _compare_json(primary: Any, candidate: Any, matcher: Matcher | None, out: Collector) -> None:
    """Compare two parsed bodies by canonical text; walk them only when the texts differ."""
    if matcher is not None and matcher.start.ignored:
        return  # `$` is ignored: the whole body
    primary, candidate = prepare(primary, matcher), prepare(candidate, matcher)
    candidate_text = canonical_text(candidate)
    if canonical_text(primary) != candidate_text:
        diff_json(primary, candidate, candidate_text, out)
