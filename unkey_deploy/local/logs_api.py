"""`analytics.getRuntimeLogs` locally: the query is parsed and translated (`logs_sql`), then run on a
read-only SQLite connection confined to the `runtime_logs_v1` view.

Three fences, each enough on its own: the parser accepts only the SELECT subset; the connection is opened
read-only; SQLite's authorizer allows reading the view (and the table beneath it only through the view)
and the allowed functions, and denies everything else (other tables, PRAGMA, ATTACH, writes). A progress
handler ends a query after `TIME_LIMIT` seconds and at most `ROW_LIMIT` rows are returned.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from unkey_deploy.local import problems
from unkey_deploy.local.deployments_api import Context
from unkey_deploy.local.logs_sql import FUNCTIONS, TABLE, QueryError, Translated, like, translate
from unkey_deploy.local.problems import Problem, valid_body

Handler = Callable[[Context, Any], tuple[int, dict[str, Any]]]
TIME_LIMIT = 5.0
ROW_LIMIT = 10_000
UNDERLYING = "runtime_logs"
_ALLOWED_FUNCTIONS = {*FUNCTIONS.values(), "ch_like", "ch_ilike"}
_ERROR_PAGES = {
    "query": "invalid_analytics_query",
    "table": "invalid_analytics_table",
    "function": "invalid_analytics_function",
    "query_type": "invalid_analytics_query_type",
}


class QueryLimit(Exception):
    """The query ran into the time or row limit."""


def _authorizer(action: int, arg1: str | None, arg2: str | None, database: str | None,
                source: str | None) -> int:
    """Read the view; read the table beneath it only on the view's behalf; call the allowed functions."""
    if action == sqlite3.SQLITE_SELECT:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_READ and database == "main" and (
        arg1 == TABLE or (arg1 == UNDERLYING and source == TABLE)
    ):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION and arg2 in _ALLOWED_FUNCTIONS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def run_sql(db_path: Path, sql: str, params: list[Any] | tuple[Any, ...] = (), *,
            time_limit: float = TIME_LIMIT, row_limit: int = ROW_LIMIT) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run `sql` read-only and confined; (column names, rows). sqlite3.DatabaseError when refused."""
    db = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    try:
        db.create_function("ch_like", 2, lambda v, p: like(v, p), deterministic=True)
        db.create_function("ch_ilike", 2, lambda v, p: like(v, p, insensitive=True), deterministic=True)
        db.set_authorizer(_authorizer)
        deadline = time.monotonic() + time_limit
        db.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            cursor = db.execute(sql, params)
            rows = cursor.fetchmany(row_limit + 1)
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise QueryLimit(
                    f"The query ran longer than {time_limit:g} seconds; add filters or a LIMIT."
                ) from None
            raise
        if len(rows) > row_limit:
            raise QueryLimit(f"The query returns more than {row_limit} rows; add a LIMIT or narrow the filters.")
        return [d[0] for d in cursor.description or ()], rows
    finally:
        db.close()


def execute(db_path: Path, query: str) -> list[dict[str, Any]]:
    """The rows of a runtime log query, as the API returns them (attributes as objects)."""
    translated: Translated = translate(query)
    columns, rows = run_sql(db_path, translated.sql, translated.params)
    out = []
    for row in rows:
        item = dict(zip(columns, row, strict=True))
        if isinstance(item.get("attributes"), str):
            with contextlib.suppress(ValueError):
                item["attributes"] = json.loads(item["attributes"])
        elif "attributes" in item and item["attributes"] is None:
            item["attributes"] = {}
        out.append(item)
    return out


def routes(db_path: Path) -> dict[str, Handler]:
    def get_runtime_logs(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("analytics.getRuntimeLogs", body)
        try:
            return 200, {"data": execute(db_path, body["query"])}
        except QueryError as exc:
            raise _bad_query(exc.kind, exc.message) from None
        except QueryLimit as exc:
            raise Problem(422, "Unprocessable Entity",
                          f"{problems.ERRORS_URL}/user/unprocessable_entity/query_limits_exceeded",
                          str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise _bad_query("query", f"The query cannot run: {exc}.") from None

    return {"analytics.getRuntimeLogs": get_runtime_logs}


def _bad_query(kind: str, message: str) -> Problem:
    page = _ERROR_PAGES.get(kind, "invalid_analytics_query")
    return Problem(400, "Bad Request", f"{problems.ERRORS_URL}/user/bad_request/{page}", message)
