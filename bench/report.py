"""What a run leaves behind: the table on stdout, the results JSON in bench/results/ and the
generated section of bench/README.md (between its markers), with the machine measured on."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

from bench.runner import CONNECTIONS, Options
from bench.scenarios import Result, Status

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
README = BENCH_DIR / "README.md"
START_MARK = "<!-- results:start -->"
END_MARK = "<!-- results:end -->"
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


def table(results: list[Result]) -> list[str]:
    """One group's markdown table for bench/README.md."""
    rows = [
        "| scenario | req/s | p50 | p99 | max RSS | ratio vs baseline | target | met |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for r in results:
        ratio = f"{r.ratio:.2f}x {r.baseline}" if r.ratio is not None else "—"
        rows.append(
            f"| {r.name} | {fmt(r.rps, ',.0f')} | {fmt(r.p50_ms, '.2f', ' ms')}"
            f" | {fmt(r.p99_ms, '.2f', ' ms')}"
            f" | {fmt(r.rss_kib / 1024 if r.rss_kib else None, '.0f', ' MiB')}"
            f" | {ratio} | {r.target or '—'} | {met_text(r)} |"
        )
    return rows


def render(results: list[Result], info: dict[str, str], opts: Options) -> str:
    """The generated results section of bench/README.md."""
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
    ]
    for group in dict.fromkeys(r.group for r in results):
        members = [r for r in results if r.group == group]
        lines += [f"### {group}", "", *table(members), ""]
        notes = [r for r in members if r.status is not Status.OK]
        lines += [f"- {r.name}: {r.status.value}: {r.detail.splitlines()[0]}" for r in notes]
        if notes:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def update_readme(section: str) -> None:
    """Replace bench/README.md's generated section, leaving the hand-written text around it."""
    text = README.read_text() if README.exists() else f"# Benchmarks\n\n{START_MARK}\n{END_MARK}\n"
    if START_MARK not in text or END_MARK not in text:
        text = text.rstrip() + f"\n\n## Results\n\n{START_MARK}\n{END_MARK}\n"
    head, rest = text.split(START_MARK, 1)
    _, tail_ = rest.split(END_MARK, 1)
    README.write_text(f"{head}{START_MARK}\n{section}{END_MARK}{tail_}")


def print_table(results: list[Result]) -> None:
    """The plain-text table a run ends with, on stdout."""
    header = f"{'scenario':<30} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'RSS MiB':>8}  ratio  met"
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = f"{r.ratio:5.2f}x" if r.ratio is not None else "    — "
        rss = r.rss_kib / 1024 if r.rss_kib else None
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
