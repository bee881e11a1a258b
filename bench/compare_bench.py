"""What one shadow comparison of a 1 MB JSON body costs, cutover's own against the libraries
one might pick instead (deepdiff for the diff, orjson for canonicalisation), measured before
picking: `python bench/compare_bench.py` (libraries not installed are skipped)."""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import importlib
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import Any

from cutover.shadow import Answer, CompareRules, compare

ITEMS = 5000
JSON_HEADERS = [(b"content-type", b"application/json")]


def payload(items: int = ITEMS) -> list[dict[str, Any]]:
    """A list of `items` objects of ten fields each, about 1 MB as JSON."""
    return [
        {
            "id": number,
            "sku": f"SKU-{number:08d}",
            "name": f"Item {number}",
            "price": round(number * 1.37 % 1000, 2),
            "quantity": number % 97,
            "active": number % 3 != 0,
            "tags": ["red", f"batch-{number % 50}"],
            "owner": {"id": number % 200, "login": f"user{number % 200}"},
            "created_at": "2026-01-02T03:04:05Z",
            "updated_at": "2026-11-25T15:19:00Z",
        }
        for number in range(items)
    ]


def flask_bytes(value: Any) -> bytes:
    """`value` serialised as Flask's jsonify does: sorted keys, ASCII escapes, compact."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def fastapi_bytes(value: Any) -> bytes:
    """`value` serialised as FastAPI's JSONResponse does: insertion order, UTF-8, compact."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def timed(
    runs: Mapping[tuple[str, str], Callable[[], object]], repeat: int, clock: Callable[[], float]
) -> dict[tuple[str, str], tuple[float, float]]:
    """Median and minimum milliseconds of each run, in `repeat` rounds after a warm-up round;
    each round times every run once, so a machine's load drifting over minutes hits all alike."""
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in runs}
    for round_number in range(repeat + 1):
        for key, run in runs.items():
            start = clock()
            run()
            if round_number:
                samples[key].append((clock() - start) * 1000)
    return {key: (statistics.median(times), min(times)) for key, times in samples.items()}


def cases() -> dict[str, tuple[bytes, bytes]]:
    """Primary and candidate bodies: bytes-identical, equal in value, one field changed."""
    value = payload()
    changed = copy.deepcopy(value)
    changed[ITEMS // 2]["price"] = 12345.67
    primary = flask_bytes(value)
    return {
        "identical bytes": (primary, primary),
        "same value, other serialisation": (primary, fastapi_bytes(value)),
        "one field changed": (primary, fastapi_bytes(changed)),
    }


def stdlib_canonical(a: bytes, b: bytes) -> bool:
    """json.loads and sorted-key dumps, compared: what compare() does before any diff."""
    encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return encoder.encode(json.loads(a)) == encoder.encode(json.loads(b))


def contenders() -> dict[str, Callable[[bytes, bytes], object]]:
    """Each way of comparing two JSON bodies, by name; those whose library is missing skipped."""
    rules = CompareRules()
    ignoring = CompareRules(ignore=("$[*].updated_at",), unordered=("$[*].tags",))
    found: dict[str, Callable[[bytes, bytes], object]] = {
        "cutover compare()": lambda a, b: compare(
            Answer(200, JSON_HEADERS, a), Answer(200, JSON_HEADERS, b), rules
        ),
        "cutover compare(), 1 ignore + 1 unordered rule": lambda a, b: compare(
            Answer(200, JSON_HEADERS, a), Answer(200, JSON_HEADERS, b), ignoring
        ),
        "stdlib json.loads x2 only": lambda a, b: (json.loads(a), json.loads(b)),
        "stdlib canonical text (no diff)": stdlib_canonical,
    }
    try:
        orjson = importlib.import_module("orjson")
    except ImportError:
        print("orjson not installed: skipped", file=sys.stderr)
    else:

        def orjson_canonical(a: bytes, b: bytes) -> bool:
            """orjson's loads and sorted-key dumps, compared: canonicalisation only, no diff."""
            option = orjson.OPT_SORT_KEYS
            return bool(
                orjson.dumps(orjson.loads(a), option=option)
                == orjson.dumps(orjson.loads(b), option=option)
            )

        found["orjson canonical bytes (no diff)"] = orjson_canonical
    try:
        deepdiff = importlib.import_module("deepdiff")
    except ImportError:
        print("deepdiff not installed: skipped", file=sys.stderr)
    else:
        found["deepdiff DeepDiff(json.loads x2)"] = lambda a, b: deepdiff.DeepDiff(
            json.loads(a), json.loads(b)
        )
    return found


def versions() -> str:
    """The interpreter and the libraries measured, for the record."""
    parts = [f"Python {platform.python_version()}"]
    for name in ("deepdiff", "orjson"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            parts.append(f"{name} {metadata.version(name)}")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Run every contender on every case and print a Markdown table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per cell")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--wall", action="store_true", help="wall-clock time (default: this process's CPU time)"
    )
    args = parser.parse_args(argv)
    clock = time.perf_counter if args.wall else time.process_time
    bodies = cases()
    runs = {
        (name, case): functools.partial(run, a, b)
        for name, run in contenders().items()
        for case, (a, b) in bodies.items()
    }
    results: dict[str, dict[str, tuple[float, float]]] = {}
    for (name, case), cell in timed(runs, args.repeat, clock).items():
        results.setdefault(name, {})[case] = cell
    size = len(bodies["identical bytes"][0])
    if args.json:
        document = {"bytes": size, "clock": clock.__name__, "versions": versions()}
        print(json.dumps({**document, "results": results}, indent=2))
        return 0
    kind = "wall-clock" if args.wall else "CPU"
    print(f"{ITEMS} objects, {size / 1e6:.2f} MB; {versions()}")
    print(f"median (min) {kind} ms per comparison, {args.repeat} interleaved rounds")
    print()
    print("| comparison | " + " | ".join(bodies) + " |")
    print("|---|" + "---:|" * len(bodies))
    for name, row in results.items():
        cells = " | ".join(f"{median:.1f} ({least:.1f})" for median, least in row.values())
        print(f"| {name} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
