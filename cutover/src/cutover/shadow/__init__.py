"""What the shadow compares and keeps, off the request path: two recorded answers compared
under a route's rules (status, the headers that matter, the body field by field), the shape that
groups mismatches, the paths that are noise, and redaction before anything is stored."""

from cutover.shadow.answer import Answer
from cutover.shadow.compare import (
    DEFAULT_HEADERS,
    DEFAULT_MAX_DIFFERENCES,
    DEFAULT_RULES,
    CompareRules,
    Comparison,
    compare,
    noise_paths,
    suggested_rule,
)
from cutover.shadow.diff import Difference, Kind
from cutover.shadow.paths import collapse
from cutover.shadow.redact import (
    REDACTED,
    is_secret_name,
    redact_header_value,
    redact_headers,
    redact_json,
)

__all__ = [
    "DEFAULT_HEADERS",
    "DEFAULT_MAX_DIFFERENCES",
    "DEFAULT_RULES",
    "REDACTED",
    "Answer",
    "CompareRules",
    "Comparison",
    "Difference",
    "Kind",
    "collapse",
    "compare",
    "is_secret_name",
    "noise_paths",
    "redact_header_value",
    "redact_headers",
    "redact_json",
    "suggested_rule",
]
