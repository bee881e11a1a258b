"""This process's shadow evidence as one JSON document: per route the counts, the mismatch groups
with their (redacted) exemplars, and the noise learned with the ignore rule to paste."""

from __future__ import annotations

from typing import Any

from cutover.shadow.compare import suggested_rule
from cutover.shadow.runner import ShadowRunner, as_dict


def evidence_document(runner: ShadowRunner) -> dict[str, Any]:
    """Counts, groups (largest first) and noise of every shadowed route, ready for JSON."""
    routes: dict[str, Any] = {}
    for route, counts in sorted(runner.counts.items()):
        compared = counts.compared
        routes[route] = {
            "counts": as_dict(counts),
            "match_rate": round(counts.matched / compared, 4) if compared else None,
            "groups": [],
            "noise": [
                {
                    "path": path,
                    "seen": seen,
                    "suggested_ignore": suggested_rule(path),
                }
                for path, seen in sorted(runner.noise.get(route, {}).items())
            ],
        }
    for (route, shape), group in sorted(runner.groups.items(), key=lambda item: -item[1].count):
        routes.setdefault(route, {"groups": []})["groups"].append(
            {
                "shape": list(shape),
                "count": group.count,
                "exemplars": [
                    {"request": line, "comparison": comparison.to_json()}
                    for line, comparison in group.exemplars
                ],
            }
        )
    return {"routes": routes}
