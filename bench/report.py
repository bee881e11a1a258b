"""What a run leaves behind: the table on stdout, the results JSON in bench/results/ and the
generated section of bench/README.md (between its markers), with the machine measured on."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
from importlib import metadata
from pathlib import Path

from bench.runner import CONNECTIONS, Options
from bench.scenarios import SHADOW_GROUPS, Result, Status

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
README = BENCH_DIR / "README.md"
START_MARK = "<!-- results:start -->"
END_MARK = "<!-- results:end -->"
# The shadow groups' results live in their own section ("Shadow traffic cost"), so that running
# one set never erases the other's.
SHADOW_MARKS = ("<!-- shadow-results:start -->", "<!-- shadow-results:end -->")
SHADOW_TITLE = "Shadow traffic cost"
# The counters shown, in the admin API's names, with their column titles.
SHADOW_COUNTERS = {
    "compared": "compared",
    "matched": "matched",
    "timeout": "timeout",
    "candidate_error": "candidate error",
    "dropped": "dropped",
    "not_shadowed": "not shadowed",
}
PACKAGES = (
    "fastapi",
    "starlette",
    "flask",
    "werkzeug",
    "a2wsgi",
    "uvicorn",
    "httptools",
    "uvloop",
    "gunicorn",
)


def machine_info() -> dict[str, str]:
    """What the numbers depend on, recorded beside them."""
    cpu = "unknown"
    try:
        m = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = m[1].strip() if m else cpu
    except OSError:
        pass
    info = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
    for pkg in PACKAGES:
        try:
            info[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            info[pkg] = "not installed"
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    info["wrk"] = (wrk.stdout or wrk.stderr).split("[")[0].replace("wrk", "").strip() or "?"
    return info


def fmt(value: float | None, spec: str, suffix: str = "") -> str:
    """A number for a table cell; a dash where there is none."""
    return "—" if value is None else f"{value:{spec}}{suffix}"


def met_text(res: Result) -> str:
    """The `met` cell: the verdict, or why the row has no numbers."""
    if res.status is not Status.OK:
        return res.status.value
    return {True: "**yes**", False: "**NO**", None: "—"}[res.met]


def mib(kib: int | None) -> float | None:
    """KiB as MiB, None kept."""
    return kib / 1024 if kib else None


def table(results: list[Result]) -> list[str]:
    """One group's markdown table for bench/README.md."""
    rows = [
        "| scenario | req/s | p50 | p99 | max RSS | total RSS | ratio vs baseline | target | met |",
        "|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in results:
        ratio = f"{r.ratio:.2f}x {r.baseline}" if r.ratio is not None else "—"
        rows.append(
            f"| {r.name} | {fmt(r.rps, ',.0f')} | {fmt(r.p50_ms, '.2f', ' ms')}"
            f" | {fmt(r.p99_ms, '.2f', ' ms')}"
            f" | {fmt(mib(r.rss_kib), '.0f', ' MiB')} | {fmt(mib(r.rss_total_kib), '.0f', ' MiB')}"
            f" | {ratio} | {r.target or '—'} | {met_text(r)} |"
        )
    return rows


def ratio_text(r: Result, by_name: dict[str, Result]) -> str:
    """The summary's ratio cell: req/s, and the p99s or the RSS ratio where the target has them."""
    if r.ratio is None:
        return "—"
    parts = [f"{r.ratio:.2f}x req/s"]
    base = by_name.get(r.baseline or "")
    if "p99" in r.target and base is not None:
        parts.append(f"p99 {fmt(r.p99_ms, '.1f')} vs {fmt(base.p99_ms, '.1f')} ms")
    if r.rss_ratio is not None and (r.rss_kind in r.target or r.rss_kind == "total RSS"):
        parts.append(f"{r.rss_kind} {r.rss_ratio:.2f}x")
    return ", ".join(parts)


def summary_table(results: list[Result]) -> list[str]:
    """Every scenario of the run in one table: its baseline, ratio, target and verdict."""
    by_name = {r.name: r for r in results}
    rows = [
        "| group | scenario | baseline | ratio | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        rows.append(
            f"| {r.group} | {r.name} | {r.baseline or '—'} | {ratio_text(r, by_name)}"
            f" | {r.target or '—'} | {met_text(r)} |"
        )
    return rows


def spread(values: list[float], spec: str, suffix: str = "") -> str:
    """`median (min-max)` of a scenario's rounds; the median alone for one round."""
    if not values:
        return "—"
    mid = statistics.median(values)
    if len(values) == 1:
        return f"{mid:{spec}}{suffix}"
    return f"{mid:{spec}}{suffix} ({min(values):{spec}}-{max(values):{spec}})"


def shadow_table(results: list[Result]) -> list[str]:
    """A shadow group's tables: each number as median (min-max) over the rounds, the ratios
    against legacy round by round (each round ran both side by side), then the counters."""
    rows = [
        "| scenario | req/s | p50 | p99 | max RSS"
        " | req/s vs legacy | p50 vs legacy | target | met |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        numbers = {key: [float(x[key]) for x in r.rounds] for key in ("rps", "p50_ms", "p99_ms")}
        rss = mib(r.rss_kib)
        rows.append(
            f"| {r.name} | {spread(numbers['rps'], ',.0f')} | {spread(numbers['p50_ms'], '.2f')} ms"
            f" | {spread(numbers['p99_ms'], '.1f')} ms | {fmt(rss, '.0f', ' MiB')}"
            f" | {spread(r.round_ratios, '.2f', 'x')} | {spread(r.round_p50_ratios, '.2f', 'x')}"
            f" | {r.target or '—'} | {met_text(r)} |"
        )
    rows += [
        "",
        "| scenario (counters per measured run, median) | requests | "
        + " | ".join(SHADOW_COUNTERS.values())
        + " |",
        "|---|" + "---:|" * (len(SHADOW_COUNTERS) + 1),
    ]
    for r in results:
        if r.status is not Status.OK:
            continue
        requests = statistics.median(float(x["requests"]) for x in r.rounds)
        cells = " | ".join(fmt(r.shadow.get(key), ",.0f") for key in SHADOW_COUNTERS)
        rows.append(f"| {r.name} | {requests:,.0f} | {cells} |")
    return rows


def render(
    results: list[Result],
    info: dict[str, str],
    opts: Options,
    summary: list[Result] | None = None,
) -> str:
    """The generated results section of bench/README.md: the `summary` rows (default: all) in
    one table, then each group's own."""
    pin = (
        f"server on CPU {opts.server_cpu}, wrk on CPU {opts.client_cpu}"
        if opts.server_cpu
        else "NOT pinned (fewer than 2 CPUs)"
    )
    lines = [
        f"Run of {info['date']}: wrk -t1 -c{CONNECTIONS} -d{opts.duration}s after a"
        f" {opts.warmup}s warm-up, {opts.rounds} round(s) (medians), {pin}.",
        "",
        f"Machine: {info['nproc']} CPUs, {info['cpu']}, Linux {info['kernel']};"
        f" load average {info['load_before']} before, {info['load_after']} after"
        " (the run itself adds about 2);"
        f" Python {info['python']}, wrk {info['wrk']}; "
        + ", ".join(f"{p} {info[p]}" for p in PACKAGES)
        + ".",
        "",
        "The VM is shared with other agents running test suites meanwhile, so every number is"
        " noisy (the same scenario moves 10-15 % between runs on a quiet machine, far more on a"
        " busy one); the ratios compare scenarios run one after the other in the same round.",
        "",
    ]
    shown = summary if summary is not None else results
    if shown:
        lines += ["#### Every scenario", "", *summary_table(shown), ""]
    for group in dict.fromkeys(r.group for r in results):
        members = [r for r in results if r.group == group]
        rows = shadow_table(members) if group in SHADOW_GROUPS else table(members)
        lines += [f"### {group}", "", *rows, ""]
        notes = [r for r in members if r.status is not Status.OK]
        lines += [f"- {r.name}: {r.status.value}: {r.detail.splitlines()[0]}" for r in notes]
        if notes:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def readme_sections(
    results: list[Result], info: dict[str, str], opts: Options
) -> list[tuple[str, str, str, str]]:
    """(title, start mark, end mark, text) of each generated section this run has rows for:
    the shadow groups' in their own, the others' in "Results"."""
    shadow = [r for r in results if r.group in SHADOW_GROUPS]
    others = [r for r in results if r.group not in SHADOW_GROUPS]
    sections = []
    if others:
        text = render(others, info, opts, summary=results)
        sections.append(("Results", START_MARK, END_MARK, text))
    if shadow:
        # its rows are in the Results section's table when both ran; its own tables follow
        text = render(shadow, info, opts, summary=[] if others else None)
        sections.append((SHADOW_TITLE, *SHADOW_MARKS, text))
    return sections


def update_readme(
    section: str, title: str = "Results", start: str = START_MARK, end: str = END_MARK
) -> None:
    """Replace one generated section of bench/README.md (between `start` and `end`), leaving
    the hand-written text around it; a missing one is added at the end under `title`."""
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if start not in text or end not in text:
        text = text.rstrip() + f"\n\n## {title}\n\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail_ = rest.split(end, 1)
    README.write_text(f"{head}{start}\n{section}{end}{tail_}")


def print_table(results: list[Result]) -> None:
    """The plain-text table a run ends with, on stdout."""
    header = f"{'scenario':<30} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'RSS MiB':>8}  ratio  met"
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = f"{r.ratio:5.2f}x" if r.ratio is not None else "    — "
        rss = mib(r.rss_kib)
        met = met_text(r).replace("*", "")
        if r.status is not Status.OK:
            met += f" ({r.detail.splitlines()[0][:70]})"
        print(
            f"{r.name:<30} {fmt(r.rps, ',.0f'):>9} {fmt(r.p50_ms, '.2f'):>8}"
            f" {fmt(r.p99_ms, '.2f'):>8} {fmt(rss, '.0f'):>8}  {ratio}  {met}"
        )


def write_results(results: list[Result], info: dict[str, str], opts: Options) -> Path:
    """The run's JSON, kept per run and as latest.json, for comparing runs later."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": info,
        "options": dataclasses.asdict(opts),
        "results": [dataclasses.asdict(r) for r in results],
    }
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"bench-{stamp}.json"
    for target in (path, RESULTS_DIR / "latest.json"):
        target.write_text(json.dumps(payload, indent=2) + "\n")
    return path
