"""What each gateway process hands the shared database through its publisher: its traffic per
route and side, the promotions it may drive, its shadow evidence and the answers the OpenAPI
document learns from; registered only when the gateway has a state store."""

from __future__ import annotations

from dataclasses import dataclass

from cutover.control.driver import PromotionDriver, settle_seconds
from cutover.control.store import StateStore
from cutover.observe.tally import RequestTally
from cutover.observe.traffic import TrafficCollector
from cutover.openapi.samples import SampleCollector
from cutover.openapi.sampling import ResponseSampler
from cutover.publish import Publisher
from cutover.shadow.evidence_write import EvidenceWriter
from cutover.shadow.runner import ShadowRunner


@dataclass(frozen=True, slots=True)
class Intervals:
    """How often a process reads the mode state and publishes (a promotion step settles by it)."""

    poll: float
    publish: float


def add_collectors(
    publisher: Publisher,
    store: StateStore,
    *,
    tally: RequestTally,
    shadow: ShadowRunner,
    samples: ResponseSampler,
    intervals: Intervals,
    evidence_retention: float,
    evidence_max_exemplars: int,
    openapi_max_samples: int,
) -> EvidenceWriter:
    """Register every collector on `publisher`; the evidence writer is returned (tests drive
    its rounds)."""
    traffic = TrafficCollector(tally, store)
    publisher.add("traffic", traffic)
    # Every process ticks the promotions; the lease lets one act on each.
    driver = PromotionDriver(
        store,
        lambda: traffic.process_id,
        settle=settle_seconds(intervals.poll, intervals.publish),
    )
    publisher.add("promotions", driver.collect)
    evidence = EvidenceWriter(
        shadow, store, retention=evidence_retention, max_exemplars=evidence_max_exemplars
    )
    publisher.add("shadow evidence", evidence.collect)
    if samples.every:
        # The tally's statuses not sampled yet make their route's next request sampled.
        publisher.add(
            "openapi samples", SampleCollector(samples, store, tally, openapi_max_samples)
        )
    return evidence
