#!/usr/bin/env python3
"""Reference for the trace-store speed comparison (issue 4): Llama Stack's SQLite trace store.

Replays, with the Python standard library only, exactly what Llama Stack's meta-reference
telemetry provider does with SQLite, so strata's latencies can be put next to it:

  llama_stack/providers/inline/telemetry/meta_reference/sqlite_span_processor.py
      setup_database()  the schema (SCHEMA below, verbatim: note there is no index on
                        spans.trace_id or spans.parent_span_id, only the span_id primary key)
      on_end()          per ended span: an upsert into traces, an insert into spans, a commit
  llama_stack/providers/utils/telemetry/sqlite_trace_store.py
      query_traces()    the CTE with json_extract attribute filters (query_traces_sql)
      get_span_tree()   the recursive CTE (SPAN_TREE_SQL)
      get_trace(), get_span()
  llama_stack/providers/utils/telemetry/dataset_mixin.py
      query_spans()     query_traces(filters), then get_span_tree() of each trace's root,
                        keeping spans whose attributes hold every requested key (not null)

Like the reference, every query opens its own connection (the reference uses
`async with aiosqlite.connect(...)` per call) and turns rows into result objects
(json.loads of attributes, datetime.fromisoformat of times). aiosqlite's thread hop and
pydantic validation are not replayed, so these latencies are a lower bound for Llama Stack.

Workload file: JSON lines, one span per line, as bench/reference/gen_spans.ts writes them:

  {"trace_id": "<32 hex>", "span_id": "<16 hex>", "parent_span_id": "<16 hex>" | null,
   "name": "inference",
   "start_time": "2024-12-04T08:08:30.501587Z",      ISO 8601 (any offset; none = UTC)
   "end_time": "2024-12-04T08:08:31.000001Z" | null,  spans without one never ended: the
                                                      reference only stores ended spans
   "status": "ok" | "error" | null,
   "attributes": {"session_id": "...", "input": "...", ...}}   primitive values

Spans are stored in end-time order (the order on_end sees them), with the reference's
conversions: times as datetime.isoformat() in UTC ("...+00:00"), status as the OpenTelemetry
status code name ("OK"/"ERROR"/"UNSET"), attributes as json.dumps plus the "__ttl__" that
log_event adds, kind "INTERNAL", service_name "llama-stack".

Usage:
  npx tsx bench/reference/gen_spans.ts --traces 1000 --spans-per-trace 20 --out /tmp/spans.jsonl
  python3 bench/reference/sqlite_trace_store.py /tmp/spans.jsonl --iterations 200

  At 1M spans the reference takes seconds to minutes per call (no index on spans.trace_id or
  parent_span_id: every level of a span tree scans the spans table), so bench/telemetry.bench.ts
  runs it with --targets (the very questions strata is asked), --time-budget, --commit-every.

Prints one JSON object: the load rate and, per query, p50/p99/mean latency in milliseconds.
"""

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import datetime, timezone

# --- sqlite_span_processor.py: setup_database() ----------------------------------------------

SCHEMA = [
    """
            CREATE TABLE IF NOT EXISTS traces (
                trace_id TEXT PRIMARY KEY,
                service_name TEXT,
                root_span_id TEXT,
                start_time TIMESTAMP,
                end_time TIMESTAMP,
                created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
            )
        """,
    """
            CREATE TABLE IF NOT EXISTS spans (
                span_id TEXT PRIMARY KEY,
                trace_id TEXT REFERENCES traces(trace_id),
                parent_span_id TEXT,
                name TEXT,
                start_time TIMESTAMP,
                end_time TIMESTAMP,
                attributes TEXT,
                status TEXT,
                kind TEXT
            )
        """,
    """
            CREATE TABLE IF NOT EXISTS span_events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                span_id TEXT REFERENCES spans(span_id),
                name TEXT,
                timestamp TIMESTAMP,
                attributes TEXT
            )
        """,
    """
            CREATE INDEX IF NOT EXISTS idx_traces_created_at
            ON traces(created_at)
        """,
]

# --- sqlite_span_processor.py: on_end() -------------------------------------------------------

INSERT_TRACE_SQL = """
                INSERT INTO traces (
                    trace_id, service_name, root_span_id, start_time, end_time
                ) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(trace_id) DO UPDATE SET
                    root_span_id = COALESCE(root_span_id, excluded.root_span_id),
                    start_time = MIN(excluded.start_time, start_time),
                    end_time = MAX(excluded.end_time, end_time)
            """

INSERT_SPAN_SQL = """
                INSERT INTO spans (
                    span_id, trace_id, parent_span_id, name,
                    start_time, end_time, attributes, status,
                    kind
                ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """

LOCAL_ROOT_SPAN_MARKER = "__local_root_span__"
DEFAULT_TTL_SECONDS = 604800
SERVICE_NAME = "llama-stack"

# --- sqlite_trace_store.py: query_traces() ----------------------------------------------------

QUERY_TRACES_SQL = """
            WITH matching_traces AS (
                SELECT DISTINCT t.trace_id
                FROM traces t
                JOIN spans s ON t.trace_id = s.trace_id
                {where_clause}
            ),
            filtered_traces AS (
                SELECT t.trace_id, t.root_span_id, t.start_time, t.end_time
                FROM matching_traces mt
                JOIN traces t ON mt.trace_id = t.trace_id
                LEFT JOIN spans s ON t.trace_id = s.trace_id
                {order_clause}
            )
            SELECT DISTINCT trace_id, root_span_id, start_time, end_time
            FROM filtered_traces
            WHERE root_span_id IS NOT NULL
            LIMIT {limit} OFFSET {offset}
        """

OPS_MAP = {"eq": "=", "ne": "!=", "gt": ">", "lt": "<"}


def query_traces_sql(attribute_filters, limit=100, offset=0, order_by=None):
    """The reference's SQL text and parameters; attribute_filters are (key, op, value) tuples."""
    where_clause, params = "", []
    if attribute_filters:
        conditions = [f"json_extract(s.attributes, '$.{key}') {OPS_MAP[op]} ?" for key, op, _ in attribute_filters]
        params = [value for _, _, value in attribute_filters]
        where_clause = " WHERE " + " AND ".join(conditions)
    order_clause = ""
    if order_by:
        order_clauses = []
        for field in order_by:
            desc = field.startswith("-")
            clean_field = field[1:] if desc else field
            order_clauses.append(f"t.{clean_field} {'DESC' if desc else 'ASC'}")
        order_clause = " ORDER BY " + ", ".join(order_clauses)
    sql = QUERY_TRACES_SQL.format(where_clause=where_clause, order_clause=order_clause, limit=limit, offset=offset)
    return sql, params


# --- sqlite_trace_store.py: get_span_tree() ---------------------------------------------------

SPAN_TREE_SQL = """
        WITH RECURSIVE span_tree AS (
            SELECT s.*, 1 as depth, {attributes_select} as filtered_attributes
            FROM spans s
            WHERE s.span_id = ?

            UNION ALL

            SELECT s.*, st.depth + 1, {attributes_select} as filtered_attributes
            FROM spans s
            JOIN span_tree st ON s.parent_span_id = st.span_id
            WHERE (? IS NULL OR st.depth < ?)
        )
        SELECT *
        FROM span_tree
        ORDER BY depth, start_time
        """


def span_tree_sql(attributes_to_return=None):
    attributes_select = "s.attributes"
    if attributes_to_return:
        json_object = ", ".join(f"'{key}', json_extract(s.attributes, '$.{key}')" for key in attributes_to_return)
        attributes_select = f"json_object({json_object})"
    return SPAN_TREE_SQL.format(attributes_select=attributes_select)


# --- sqlite_trace_store.py: get_trace(), get_span() -------------------------------------------

GET_TRACE_SQL = """
            SELECT *
            FROM traces t
            WHERE t.trace_id = ?
        """

GET_SPAN_SQL = "SELECT * FROM spans WHERE trace_id = ? AND span_id = ?"


# --- The store: the reference's methods, with its row -> result conversions -------------------


class ReferenceTraceStore:
    def __init__(self, db_path, reuse_connection=False):
        self.db_path = db_path
        self.shared = self._connect() if reuse_connection else None

    def _connect(self):
        conn = sqlite3.connect(self.db_path)
        conn.row_factory = sqlite3.Row
        return conn

    def _fetchall(self, sql, params):
        if self.shared is not None:
            return self.shared.execute(sql, params).fetchall()
        conn = self._connect()  # the reference connects anew on every call
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def query_traces(self, attribute_filters=None, limit=100, offset=0, order_by=None):
        sql, params = query_traces_sql(attribute_filters, limit, offset, order_by)
        return [
            {
                "trace_id": row["trace_id"],
                "root_span_id": row["root_span_id"],
                "start_time": datetime.fromisoformat(row["start_time"]),
                "end_time": datetime.fromisoformat(row["end_time"]),
            }
            for row in self._fetchall(sql, params)
        ]

    def get_span_tree(self, span_id, attributes_to_return=None, max_depth=None):
        rows = self._fetchall(span_tree_sql(attributes_to_return), (span_id, max_depth, max_depth))
        if not rows:
            raise ValueError(f"Span {span_id} not found")
        spans_by_id = {}
        for row in rows:
            spans_by_id[row["span_id"]] = {
                "span_id": row["span_id"],
                "trace_id": row["trace_id"],
                "parent_span_id": row["parent_span_id"],
                "name": row["name"],
                "start_time": datetime.fromisoformat(row["start_time"]),
                "end_time": datetime.fromisoformat(row["end_time"]),
                "attributes": json.loads(row["filtered_attributes"]),
                "status": "error" if row["status"].upper() == "ERROR" else "ok",
            }
        return spans_by_id

    def query_spans(self, attribute_filters, attributes_to_return, max_depth=None):
        spans = []
        for trace in self.query_traces(attribute_filters=attribute_filters):
            for span in self.get_span_tree(trace["root_span_id"], attributes_to_return, max_depth).values():
                attributes = span["attributes"]
                if attributes and all(attributes.get(key) is not None for key in attributes_to_return):
                    spans.append(span)
        return spans

    def get_trace(self, trace_id):
        rows = self._fetchall(GET_TRACE_SQL, (trace_id,))
        if not rows:
            raise ValueError(f"Trace {trace_id} not found")
        return dict(rows[0])

    def get_span(self, trace_id, span_id):
        rows = self._fetchall(GET_SPAN_SQL, (trace_id, span_id))
        if not rows:
            raise ValueError(f"Span {span_id} not found")
        return dict(rows[0])


# --- Loading the workload ---------------------------------------------------------------------


def read_workload(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def to_reference_time(text):
    """What on_end stores: datetime.fromtimestamp(ns / 1e9, UTC).isoformat()."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


def span_rows(span):
    """The (traces, spans) parameter tuples on_end binds for one ended span."""
    attributes = dict(span.get("attributes") or {})
    attributes["__ttl__"] = DEFAULT_TTL_SECONDS  # log_event adds it to every structured event
    parent_span_id = span.get("parent_span_id")
    is_root_span = attributes.get(LOCAL_ROOT_SPAN_MARKER) or parent_span_id is None
    start, end = to_reference_time(span["start_time"]), to_reference_time(span["end_time"])
    status = (span.get("status") or "unset").upper()
    trace_row = (span["trace_id"], SERVICE_NAME, span["span_id"] if is_root_span else None, start, end)
    span_row = (span["span_id"], span["trace_id"], parent_span_id, span["name"], start, end, json.dumps(attributes), status, "INTERNAL")
    return trace_row, span_row


def load(db_path, spans, commit_every):
    """Inserts ended spans in end order, committing every `commit_every` spans (1 = the reference)."""
    ended = sorted((s for s in spans if s.get("end_time")), key=lambda s: to_reference_time(s["end_time"]))
    conn = sqlite3.connect(db_path)
    for statement in SCHEMA:
        conn.execute(statement)
    conn.commit()
    started = time.perf_counter()
    cursor = conn.cursor()
    for i, span in enumerate(ended, 1):
        trace_row, span_row = span_rows(span)
        cursor.execute(INSERT_TRACE_SQL, trace_row)
        cursor.execute(INSERT_SPAN_SQL, span_row)
        if i % commit_every == 0:
            conn.commit()
    conn.commit()
    seconds = time.perf_counter() - started
    conn.close()
    return {
        "spans": len(ended),
        "skipped_unended": len(spans) - len(ended),
        "seconds": round(seconds, 4),
        "spans_per_second": round(len(ended) / seconds) if seconds > 0 else None,
        "commit_every_spans": commit_every,
    }


# --- Measuring ---------------------------------------------------------------------------------


def measure(call, targets, warmup, time_budget=None, min_iterations=3):
    """Runs call(target) for each target after `warmup` unmeasured calls; latencies in ms.

    With a time budget (seconds), stops once the measured calls took that long and at least
    `min_iterations` ran (the reference needs seconds to minutes per call at 1M spans)."""
    for target in targets[:warmup]:
        call(target)
    latencies, sizes = [], []
    spent = 0.0
    for target in targets:
        started = time.perf_counter()
        result = call(target)
        elapsed = time.perf_counter() - started
        latencies.append(elapsed * 1000)
        sizes.append(len(result) if hasattr(result, "__len__") else 1)
        spent += elapsed
        if time_budget is not None and spent >= time_budget and len(latencies) >= min_iterations:
            break
    return summarize(latencies, sizes)


def summarize(latencies, sizes):
    ordered = sorted(latencies)
    p99 = statistics.quantiles(ordered, n=100, method="inclusive")[98] if len(ordered) > 1 else ordered[0]
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 4),
        "p99_ms": round(p99, 4),
        "mean_ms": round(statistics.fmean(ordered), 4),
        "min_ms": round(ordered[0], 4),
        "max_ms": round(ordered[-1], 4),
        "mean_results": round(statistics.fmean(sizes), 2),
    }


def workload_index(spans):
    sessions = sorted({s["attributes"]["session_id"] for s in spans if "session_id" in (s.get("attributes") or {})})
    roots = [s for s in spans if not s.get("parent_span_id")]
    return sessions, roots


def run_queries(store, spans, iterations, warmup, seed, selected, given_targets=None, time_budget=None, min_iterations=3):
    """Each query `iterations` times, with targets drawn from the workload by a seeded RNG.

    `given_targets` ({query name: [targets]}) replaces the drawn targets of the queries it names,
    so another store can be asked exactly the same questions: session ids for query_traces and
    query_spans, span ids for the get_span_tree queries, [trace_id, span_id] for get_trace/get_span."""
    rng = random.Random(seed)
    sessions, roots = workload_index(spans)
    ended = [s for s in spans if s.get("end_time")]
    pick = lambda pool: [rng.choice(pool) for _ in range(iterations)]  # noqa: E731
    attributes = ["input", "output"]
    queries = {
        "query_traces": (
            lambda session: store.query_traces([("session_id", "eq", session)], 100, 0, ["-start_time"]),
            pick(sessions),
        ),
        "query_traces_unfiltered": (lambda _: store.query_traces(None, 100, 0, ["-start_time"]), [None] * iterations),
        "get_span_tree": (lambda root: store.get_span_tree(root["span_id"]), pick(roots)),
        "get_span_tree_attributes_depth3": (lambda span: store.get_span_tree(span["span_id"], attributes, 3), pick(ended)),
        "query_spans": (lambda session: store.query_spans([("session_id", "eq", session)], attributes), pick(sessions)),
        "get_trace": (lambda span: [store.get_trace(span["trace_id"])], pick(ended)),
        "get_span": (lambda span: [store.get_span(span["trace_id"], span["span_id"])], pick(ended)),
    }
    if not sessions:
        raise SystemExit("the workload has no span with a session_id attribute to filter on")
    for name, targets in (given_targets or {}).items():
        if name not in queries:
            raise SystemExit(f"--targets names an unknown query {name!r}")
        if name.startswith("get_span_tree"):
            targets = [{"span_id": t} for t in targets]
        elif name in ("get_trace", "get_span"):
            targets = [{"trace_id": t[0], "span_id": t[1]} for t in targets]
        queries[name] = (queries[name][0], targets)
    return {
        name: measure(call, targets, warmup, time_budget, min_iterations)
        for name, (call, targets) in queries.items()
        if not selected or name in selected
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", help="JSON-lines span file (see the module docstring)")
    parser.add_argument("--iterations", type=int, default=200, help="measured calls per query (default 200)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured calls before each query (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="seed for picking query targets")
    parser.add_argument("--db", help="SQLite file to create (default: a temporary file, deleted afterwards)")
    parser.add_argument("--commit-every", type=int, default=1, help="commit every N spans while loading (1 = the reference)")
    parser.add_argument("--reuse-connection", action="store_true", help="one connection for all queries (the reference opens one per call)")
    parser.add_argument("--queries", help="comma-separated subset of queries to run")
    parser.add_argument("--targets", help="JSON file {query name: [targets]} replacing the drawn targets (see run_queries)")
    parser.add_argument("--time-budget", type=float, help="stop measuring a query after this many seconds of calls")
    parser.add_argument("--min-iterations", type=int, default=3, help="measured calls per query even past the time budget (default 3)")
    parser.add_argument("--reuse-db", action="store_true", help="with --db: query an existing database instead of loading it (it must hold this workload)")
    args = parser.parse_args()

    spans = read_workload(args.workload)
    directory = None if args.db else tempfile.mkdtemp(prefix="llama-trace-store-")
    db_path = args.db or os.path.join(directory, "trace_store.db")
    reuse = args.reuse_db and args.db and os.path.exists(db_path)
    if os.path.exists(db_path) and not reuse:
        raise SystemExit(f"{db_path} exists; the reference load needs a fresh database")
    given_targets = None
    if args.targets:
        with open(args.targets, encoding="utf-8") as f:
            given_targets = json.load(f)
    try:
        loaded = {"reused_database": db_path} if reuse else load(db_path, spans, max(1, args.commit_every))
        store = ReferenceTraceStore(db_path, args.reuse_connection)
        selected = set(args.queries.split(",")) if args.queries else None
        results = run_queries(store, spans, args.iterations, args.warmup, args.seed, selected,
                              given_targets, args.time_budget, max(1, args.min_iterations))
        report = {
            "reference": "llama-stack meta-reference SQLiteTraceStore (sqlite_trace_store.py + sqlite_span_processor.py)",
            "workload": {
                "file": args.workload,
                "spans": len(spans),
                "traces": len({s["trace_id"] for s in spans}),
                "sessions": len(workload_index(spans)[0]),
            },
            "environment": {
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
                "connection": "shared" if args.reuse_connection else "one per call (as the reference)",
                "database_bytes": os.path.getsize(db_path),
            },
            "load": loaded,
            "queries": results,
        }
        print(json.dumps(report, indent=2))
    finally:
        if directory:
            for name in os.listdir(directory):
                os.remove(os.path.join(directory, name))
            os.rmdir(directory)


if __name__ == "__main__":
    main()
