"""The register's current schema (``BASELINE_VERSION``), declared once, rendered per dialect.

SQLite reaches this schema through its released migrations (agent/tickets/schema.py,
never edited: old files must upgrade exactly as they always did); PostgreSQL is created
from it directly at ``BASELINE_VERSION``, and every migration after that is a portable
step both backends run. A test (tests/tickets/test_schema_definition.py) proves that a
SQLite file migrated from nothing has exactly the columns, NOT NULLs, defaults, uniques,
checks and indexes declared here, so the two backends cannot drift apart.

Types are the two SQLite uses: ``TEXT`` (times are ISO-8601 UTC text, which sorts as it
reads, on both) and ``INTEGER`` (64-bit on both: ``BIGINT`` in PostgreSQL). ``ID`` is a
row id the database assigns (SQLite's ``INTEGER PRIMARY KEY``, PostgreSQL's identity,
``BY DEFAULT`` so ``register copy`` can keep the ids it copies).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Kind = Literal["TEXT", "INTEGER", "ID"]
DialectName = Literal["sqlite", "postgresql"]

#: The schema version this definition describes (SQLite's ``v9_smdr_signals``). It is
#: always the newest: a new migration updates the declarations here and this number in
#: the same change (tests/tickets/test_schema_definition.py fails until it does), so a new
#: PostgreSQL database is created current, ``register copy`` copies every column there
#: is, and the migrations after a database's version bring older ones up.
BASELINE_VERSION: Final = 9
_PRIORITIES: Final = "('P1', 'P2', 'P3')"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    not_null: bool = False
    default: str | None = None       # an SQL literal
    check: str | None = None
    primary_key: bool = False
    unique: bool = False
    references: str | None = None    # "table (column)"


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    table: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    uniques: tuple[tuple[str, ...], ...] = ()
    checks: tuple[str, ...] = ()


def _text(name: str, *, null: bool = False, **kw: object) -> Column:
    return Column(name, "TEXT", not_null=not null, **kw)  # type: ignore[arg-type]


def _int(name: str, *, null: bool = False, **kw: object) -> Column:
    return Column(name, "INTEGER", not_null=not null, **kw)  # type: ignore[arg-type]


_ID: Final = Column("id", "ID", primary_key=True)
_TICKET_REF: Final = Column("ref", "TEXT", not_null=True, references="tickets (ref)")

#: Tables in an order where every reference points backwards (copy and create follow it).
TABLES: Final[tuple[Table, ...]] = (
    Table("counters", (_text("name", primary_key=True, null=True), _int("value"))),
    Table("tickets", (
        _text("ref", primary_key=True, null=True), _text("site_id"), _text("customer"),
        _text("signature"), _text("priority", check=f"priority IN {_PRIORITIES}"),
        _text("title"), _text("fault_class"), _text("rule"), _text("summary"),
        _text("evidence"), _text("non_covered", null=True), _text("state"),
        _text("opened_at"), _text("response_due"), _text("parts_due", null=True),
        _text("escalations"), _text("contract"), _text("calendar"), _text("last_run_id"),
        _text("remote_access_due", null=True), _int("flapping", default="0"),
        _text("flapping_since", null=True), _text("responded_at", null=True),
        _text("resolved_at", null=True),
        _text("resolution", null=True, check="resolution IN ('remote', 'on_site')"),
        _text("visit_date", null=True), _text("visit_engineer", null=True),
        _text("visit_parts", default="'[]'"), _text("answers", default="'{}'"),
        _text("transcript", null=True), _text("excerpt", default="''"))),
    Table("occurrences", (
        _ID, _TICKET_REF, _text("run_id"), _text("seen_at"),
        _text("kind", check="kind IN ('fault', 'all_clear')"),
        _text("priority", null=True, check=f"priority IN {_PRIORITIES}"),
        _text("playbook", null=True)), uniques=(("ref", "run_id", "kind"),)),
    Table("audit", (_ID, _TICKET_REF, _text("at"), _text("who"), _text("action"),
                    _text("detail"))),
    Table("escalations_sent", (_TICKET_REF, _text("level"), _text("due"), _text("sent_at"),
                               _text("who")), primary_key=("ref", "level")),
    Table("maintenance", (
        _ID, _text("site_id"), _text("starts_at"), _text("ends_at"), _text("reason"),
        _text("set_by"), _text("set_at"), _text("ended_at", null=True),
        _text("ended_by", null=True)), checks=("ends_at > starts_at",)),
    Table("engineer_actions", (
        _text("ref", primary_key=True, null=True), _text("site_id"), _text("customer"),
        _text("run_id", unique=True), _text("kind"), _text("detail"), _text("created_at"))),
    Table("outbox", (
        _ID, _text("ref"), _int("seq"), _text("event"), _text("channel"), _text("payload"),
        _text("created_at"),
        _text("status", default="'pending'",
              check="status IN ('pending', 'sent', 'skipped', 'failed')"),
        _int("attempts", default="0"), _text("next_attempt_at"),
        _text("lease_owner", null=True), _text("lease_until", null=True),
        _text("sent_at", null=True), _text("last_error", null=True)),
        uniques=(("ref", "seq", "channel"),)),
    Table("smdr_items", (
        _ID, _text("site_id"), _int("pos"), _text("kind", check="kind IN ('record', 'alarm')"),
        _text("at", null=True), _text("raw"), _text("data"), _text("stored_at"),
        _int("connection"), _text("filed", null=True)), uniques=(("site_id", "pos"),)),
    Table("smdr_sites", (
        _text("site_id", primary_key=True, null=True), _int("connections", default="0"),
        _int("position", default="0"), _int("streamed", default="0"),
        _int("excused", null=True), _text("updated_at"))),
    Table("runs", (
        _text("run_id", primary_key=True, null=True), _text("site_id"), _text("playbook"),
        _text("fleet_id", null=True), _text("started_at"), _text("finished_at", null=True),
        _text("status", null=True), _int("exit_code", null=True), _text("path", null=True))),
    Table("smdr_signals", (
        _ID, _text("site_id"), _text("signal"), _text("window_start"), _text("detected_at"),
        _text("detail"), _text("run_id", null=True), _text("outcome", null=True)),
        uniques=(("site_id", "signal", "window_start"),)),
)

INDEXES: Final[tuple[Index, ...]] = (
    # One open ticket per fault per site, enforced by the database too.
    Index("tickets_one_open", "tickets", ("site_id", "signature"), unique=True,
          where="state NOT IN ('resolved_remotely', 'resolved', 'closed', 'cancelled')"),
    Index("tickets_site", "tickets", ("site_id", "state")),
    Index("audit_ref", "audit", ("ref", "id")),
    Index("outbox_due", "outbox", ("status", "next_attempt_at")),
    Index("outbox_ticket", "outbox", ("ref", "channel", "id")),
    Index("maintenance_site", "maintenance", ("site_id", "ends_at")),
    Index("smdr_items_at", "smdr_items", ("site_id", "kind", "at")),
    Index("smdr_items_unfiled", "smdr_items", ("site_id", "kind", "filed")),
    Index("runs_site", "runs", ("site_id", "started_at")),
    Index("runs_open", "runs", ("finished_at",)),
)


def table(name: str) -> Table:
    return next(t for t in TABLES if t.name == name)


def id_tables() -> tuple[str, ...]:
    """Tables whose ``id`` the database assigns (their sequences follow a copy)."""
    return tuple(t.name for t in TABLES if any(c.kind == "ID" for c in t.columns))


def _type(column: Column, dialect: DialectName) -> str:
    if column.kind == "ID":
        return ("INTEGER PRIMARY KEY" if dialect == "sqlite"
                else "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    if column.kind == "INTEGER":
        return "INTEGER" if dialect == "sqlite" else "BIGINT"
    return "TEXT"


def _column(column: Column, dialect: DialectName) -> str:
    parts = [column.name, _type(column, dialect)]
    if column.primary_key and column.kind != "ID":
        parts.append("PRIMARY KEY")
    if column.not_null:
        parts.append("NOT NULL")
    if column.unique:
        parts.append("UNIQUE")
    if column.default is not None:
        parts.append(f"DEFAULT {column.default}")
    if column.check is not None:
        parts.append(f"CHECK ({column.check})")
    if column.references is not None:
        parts.append(f"REFERENCES {column.references}")
    return " ".join(parts)


def create_table(t: Table, dialect: DialectName) -> str:
    lines = [_column(c, dialect) for c in t.columns]
    if t.primary_key:
        lines.append(f"PRIMARY KEY ({', '.join(t.primary_key)})")
    lines += [f"UNIQUE ({', '.join(u)})" for u in t.uniques]
    lines += [f"CHECK ({c})" for c in t.checks]
    return f"CREATE TABLE {t.name} ({', '.join(lines)})"


def create_index(index: Index) -> str:
    unique = "UNIQUE " if index.unique else ""
    where = f" WHERE {index.where}" if index.where else ""
    return (f"CREATE {unique}INDEX {index.name} ON {index.table}"
            f" ({', '.join(index.columns)}){where}")


def ddl(dialect: DialectName) -> tuple[str, ...]:
    """Every statement that creates the baseline schema in an empty database."""
    return (*(create_table(t, dialect) for t in TABLES), *(create_index(i) for i in INDEXES))
