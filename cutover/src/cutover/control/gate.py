"""A promotion step's gate: the new side's error rate and p99 against legacy's over the same
window, and its shadow mismatch rate where the route was compared; too little evidence holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cutover.control.promotion import Thresholds
from cutover.observe.metrics import LATENCY_BUCKETS
from cutover.observe.traffic import SideTraffic
from cutover.shadow.runner import ShadowCounts

Outcome = Literal["pass", "hold", "fail"]
# Latencies under the histogram's first bound are not resolved: no p99 counts as less.
P99_FLOOR = LATENCY_BUCKETS[0]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the gate says of a window, and why, with the numbers it weighed."""

    outcome: Outcome
    message: str
    gate: str | None = None  # the failed or holding gate: samples, error-rate, p99, mismatch-rate


def judge(
    legacy: SideTraffic,
    new: SideTraffic,
    shadow: ShadowCounts | None,
    thresholds: Thresholds,
    *,
    baseline: SideTraffic | None = None,
) -> Verdict:
    """The verdict on a window: `legacy` and `new` are the route's traffic in it, `shadow` its
    shadow counts there, `baseline` legacy over a wider window, used when the step left legacy
    too few answers (a high canary step). Fails only on enough answers; never passes on thin
    evidence."""
    need = thresholds.min_samples
    if new.requests < need:
        return Verdict(
            "hold", f"too few samples: {new.requests} answers on new, need {need}", "samples"
        )
    if legacy.requests < need and baseline is not None and baseline.requests >= need:
        legacy = baseline
    compared = legacy.requests >= need
    new_rate = new.error_rate or 0.0
    # Without legacy answers to compare with, new's own rate is weighed against zero.
    legacy_rate = (legacy.error_rate or 0.0) if compared else 0.0
    if new_rate - legacy_rate > thresholds.max_error_rate_increase:
        return Verdict(
            "fail",
            f"error rate on new {_percent(new_rate)} ({new.errors} of {new.requests}) vs legacy "
            f"{_percent(legacy_rate)} ({legacy.errors} of {legacy.requests}): more than "
            f"+{_percent(thresholds.max_error_rate_increase)}",
            "error-rate",
        )
    if shadow is not None and shadow.compared:
        mismatch = _mismatch(shadow, thresholds)
        if mismatch is not None:
            return mismatch
    if not compared:
        return Verdict(
            "hold",
            f"too few samples: {legacy.requests} answers on legacy to compare with, need {need}",
            "samples",
        )
    new_p99 = max(new.p99 or 0.0, P99_FLOOR)
    legacy_p99 = max(legacy.p99 or 0.0, P99_FLOOR)
    if new_p99 > legacy_p99 * thresholds.max_p99_ratio:
        return Verdict(
            "fail",
            f"p99 on new {_ms(new_p99)} vs legacy {_ms(legacy_p99)}: more than "
            f"{thresholds.max_p99_ratio:g}x",
            "p99",
        )
    evidence = (
        f"new {new.requests} answers, {_percent(new_rate)} errors, p99 {_ms(new_p99)}; "
        f"legacy {legacy.requests}, {_percent(legacy_rate)}, {_ms(legacy_p99)}"
    )
    if shadow is not None and shadow.compared:
        evidence += f"; {shadow.mismatched} of {shadow.compared} shadowed mismatched"
    return Verdict("pass", evidence)


def _mismatch(shadow: ShadowCounts, thresholds: Thresholds) -> Verdict | None:
    """The mismatch-rate gate's verdict, or None when it passes."""
    rate = shadow.mismatched / shadow.compared
    if shadow.compared < thresholds.min_samples:
        return Verdict(
            "hold",
            f"too few samples: {shadow.compared} shadow comparisons, need {thresholds.min_samples}",
            "samples",
        )
    if rate > thresholds.max_mismatch_rate:
        return Verdict(
            "fail",
            f"mismatch rate {_percent(rate)} ({shadow.mismatched} of {shadow.compared} shadowed "
            f"requests): more than {_percent(thresholds.max_mismatch_rate)}",
            "mismatch-rate",
        )
    return None


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.1f}%"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
