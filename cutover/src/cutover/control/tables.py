"""cutover's own tables (all named `cutover_*`) in the database the apps share.

`cutover_state` holds the one version row, `cutover_overrides` the run-time modes,
`cutover_history` the audit trail, `cutover_routes` what the gateways published and
`cutover_processes` their heartbeats; `cutover_shadow_*` keep the shadow's evidence (counts per
process and moment, mismatch groups, their exemplars, learned noise: `cutover.shadow.evidence`);
`cutover_traffic` each process's request counts per route and side (`cutover.observe.traffic`)
and `cutover_promotions` the evidence-gated promotions with their driver's lease."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime in and out, on backends with and without time zones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored: {value!r}")
        value = value.astimezone(UTC)
        # SQLite keeps no offset: store UTC wall time, so text order is time order.
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()
VERSION_ROW = 1  # the id of `cutover_state`'s one row

state_table = Table(
    "cutover_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

overrides_table = Table(
    "cutover_overrides",
    metadata,
    Column("route", String(512), primary_key=True),
    Column("mode", String(32), nullable=False),
    Column("percent", Float, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("version", BigInteger, nullable=False),
)

history_table = Table(
    "cutover_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", BigInteger, nullable=False),
    Column("route", String(512), nullable=False),
    Column("before_mode", String(32), nullable=False),
    Column("before_percent", Float, nullable=False),
    Column("after_mode", String(32), nullable=False),
    Column("after_percent", Float, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_cutover_history_route_id", "route", "id"),
)

routes_table = Table(
    "cutover_routes",
    metadata,
    Column("route", String(512), primary_key=True),
    Column("legacy", Boolean, nullable=False),
    Column("new", Boolean, nullable=False),
    Column("default_mode", String(32), nullable=False),
    Column("default_percent", Float, nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
)

processes_table = Table(
    "cutover_processes",
    metadata,
    Column("process_id", String(255), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("version", BigInteger, nullable=True),
    Column("healthy", Boolean, nullable=False),
)

# Shadow evidence: delta rows per process, summed over a window by whoever reads them.
shadow_counts_table = Table(
    "cutover_shadow_counts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("process_id", String(255), nullable=False),
    Column("route", String(512), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    *(
        Column(name, BigInteger, nullable=False, default=0)
        for name in (
            "compared",
            "matched",
            "mismatched",
            "noise_only",
            "candidate_error",
            "timeout",
            "dropped",
            "not_shadowed",
            "noise_runs",
        )
    ),
    Index("ix_cutover_shadow_counts_route_at", "route", "at"),
    Index("ix_cutover_shadow_counts_at", "at"),
)

shadow_groups_table = Table(
    "cutover_shadow_groups",
    metadata,
    Column("route", String(512), primary_key=True),
    Column("shape_id", String(32), primary_key=True),
    Column("shape", Text, nullable=False),  # JSON list of `<path> <kind>` entries
    Column("count", BigInteger, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
)

shadow_exemplars_table = Table(
    "cutover_shadow_exemplars",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("route", String(512), nullable=False),
    Column("shape_id", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("request", Text, nullable=False),  # JSON, redacted: method, path, query, headers, body
    Column("primary_answer", Text, nullable=False),  # JSON, redacted: status, headers, body
    Column("candidate_answer", Text, nullable=False),
    Column("comparison", Text, nullable=False),  # JSON: Comparison.to_json()
    Column("report", Text, nullable=False),  # the readable field-level diff
    Index("ix_cutover_shadow_exemplars_group", "route", "shape_id", "id"),
    Index("ix_cutover_shadow_exemplars_at", "at"),
)

shadow_noise_table = Table(
    "cutover_shadow_noise",
    metadata,
    Column("route", String(512), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("seen", BigInteger, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
)

TRAFFIC_BUCKETS = 14  # len(LATENCY_BUCKETS) + 1; a test keeps the two equal
traffic_table = Table(
    "cutover_traffic",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("process_id", String(255), nullable=False),
    Column("route", String(512), nullable=False),
    Column("side", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("seconds", Float, nullable=False),
    # b0..b13: answers within each bound of `cutover.observe.metrics.LATENCY_BUCKETS`, then +Inf.
    *(Column(f"b{index}", BigInteger, nullable=False) for index in range(TRAFFIC_BUCKETS)),
    Index("ix_cutover_traffic_route_at", "route", "at"),
    Index("ix_cutover_traffic_at", "at"),
)

promotions_table = Table(
    "cutover_promotions",
    metadata,
    Column("route", String(512), primary_key=True),
    Column("steps", String(255), nullable=False),
    Column("step", Integer, nullable=False),
    Column("step_started_at", UTCDateTime, nullable=False),
    Column("interval", Float, nullable=False),
    Column("max_error_rate_increase", Float, nullable=False),
    Column("max_p99_ratio", Float, nullable=False),
    Column("max_mismatch_rate", Float, nullable=False),
    Column("min_samples", Integer, nullable=False),
    Column("state", String(32), nullable=False),
    Column("message", Text, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", BigInteger, nullable=False),  # of the switch the promotion last made
    Column("leader", String(255), nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
)

# What the gateway learned of each route's answers for the OpenAPI document (`cutover.openapi`):
# a few sampled requests per route and status, schemas inferred and examples redacted.
openapi_samples_table = Table(
    "cutover_openapi_samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("route", String(512), nullable=False),
    Column("status", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("content_type", String(255), nullable=True),
    Column("response_schema", Text, nullable=True),  # JSON Schema of the body, as JSON
    Column("response_example", Text, nullable=True),  # the body, redacted, as JSON
    Column("request_content_type", String(255), nullable=True),
    Column("request_schema", Text, nullable=True),
    Column("request_example", Text, nullable=True),
    Index("ix_cutover_openapi_samples_route_status", "route", "status", "id"),
)
