"""The headers that matter, compared by meaning rather than spelling: names in any case,
Content-Type by media type and normalised charset, Cache-Control, Allow and Vary as sets, and
Set-Cookie by the names of the cookies it sets."""

from __future__ import annotations

import codecs
import contextlib
from collections.abc import Collection
from typing import Any

from cutover.shadow.diff import Collector
from cutover.shadow.redact import is_secret_name, redact_header_value

HEADER = "header:"
SET_COOKIE = "set-cookie"


def compare_headers(
    primary: dict[str, list[str]],
    candidate: dict[str, list[str]],
    names: Collection[str],
    cookie_names: bool,
    ignored: Collection[str],
    out: Collector,
) -> None:
    """Add the differences of headers `names` (lowercase), and of the cookie names Set-Cookie
    sets when `cookie_names`, in sorted order; `ignored` holds `header:<name>` rules."""
    wanted = set(names) | ({SET_COOKIE} if cookie_names else set())
    for name in sorted(wanted):
        path = HEADER + name
        ours, theirs = primary.get(name), candidate.get(name)
        if path in ignored or (ours is None and theirs is None):
            continue
        if name == SET_COOKIE and name not in names:
            mine, other = _cookie_names(ours), _cookie_names(theirs)
            if mine != other:
                out.add(path, path, "changed", mine, other)
        elif ours is None:
            out.add(path, path, "added", None, _shown(name, theirs))
        elif theirs is None:
            out.add(path, path, "removed", _shown(name, ours), None)
        elif _normal(name, ours) != _normal(name, theirs):
            out.add(path, path, "changed", _shown(name, ours), _shown(name, theirs))


def _shown(name: str, values: list[str] | None) -> str | None:
    """Header values as a difference shows them: joined, credentials redacted."""
    if values is None:
        return None
    joined = ", ".join(value.strip() for value in values)
    return redact_header_value(name, joined) if is_secret_name(name) else joined


def _cookie_names(values: list[str] | None) -> list[str]:
    """The sorted names of the cookies a response's Set-Cookie headers set."""
    return sorted(value.split(";", 1)[0].split("=", 1)[0].strip() for value in values or ())


def _normal(name: str, values: list[str]) -> Any:
    """Header values in a form where spellings that mean the same compare equal."""
    joined = ", ".join(value.strip() for value in values)
    if name == "content-type":
        return media_type(values[-1])
    if name == "cache-control":
        return sorted(_directive(item) for item in joined.split(",") if item.strip())
    if name == "allow":
        return sorted({item.strip().upper() for item in joined.split(",") if item.strip()})
    if name == "vary":
        return sorted({item.strip().lower() for item in joined.split(",") if item.strip()})
    return joined


def _directive(text: str) -> str:
    """One Cache-Control directive with its name lowercased and its value unquoted."""
    directive, equals, value = text.strip().partition("=")
    return directive.strip().lower() + (equals + value.strip().strip('"') if equals else "")


def media_type(value: str) -> tuple[str, str | None]:
    """`(media type, charset)` of a Content-Type, both normalised (`UTF8` -> `utf-8`); JSON,
    always UTF-8 (RFC 8259), has `utf-8` when no charset is given."""
    media, _, parameters = value.partition(";")
    media = media.strip().lower()
    charset = None
    for parameter in parameters.split(";"):
        key, _, raw = parameter.partition("=")
        if key.strip().lower() == "charset":
            charset = raw.strip().strip('"').lower()
            with contextlib.suppress(LookupError):
                charset = codecs.lookup(charset).name
    if charset is None and is_json(media):
        charset = "utf-8"
    return (media, charset)


def is_json(media: str) -> bool:
    """Whether a media type says JSON (`application/json`, `application/problem+json`...)."""
    return media == "application/json" or media.endswith("+json")
