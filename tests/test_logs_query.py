"""The runtime log query the CLI builds: exact text, every user value escaped or validated, and hostile
`--grep` values that stay text when the query runs (on the local control plane's SQLite)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from unkey_deploy.api.logs import FollowCursor, LogFilter, build_query, parse_row, parse_severities, parse_time
from unkey_deploy.cli.logs import format_line
from unkey_deploy.errors import UsageError
from unkey_deploy.local import logs_api
from unkey_deploy.local.logs_sql import QueryError, translate
from unkey_deploy.local.store import Store


def test_exact_query_text_with_every_filter():
    where = LogFilter(project_id="proj_1", app_id="app_2", environment_id="env_3", deployment_id="d_4",
                      since_ms=1_700_000_000_000, until_ms=1_700_000_900_000, severities=("ERROR", "WARN"),
                      grep="Time Out")
    assert build_query(where, limit=50) == (
        "SELECT * FROM runtime_logs_v1 WHERE project_id = 'proj_1' AND app_id = 'app_2' AND environment_id = 'env_3'"
        " AND deployment_id = 'd_4' AND time >= 1700000000000 AND time < 1700000900000"
        " AND upper(severity) IN ('ERROR', 'WARN') AND lower(message) LIKE '%time out%'"
        " ORDER BY time DESC LIMIT 50"
    )
    assert build_query(LogFilter(deployment_id="d_4"), limit=1000, newest_first=False) == (
        "SELECT * FROM runtime_logs_v1 WHERE deployment_id = 'd_4' ORDER BY time ASC LIMIT 1000"
    )


@pytest.mark.parametrize(
    ("grep", "literal"),
    [
        ("'; DROP TABLE runtime_logs; --", "'%\\'; drop table runtime\\\\_logs; --%'"),
        ("it's", "'%it\\'s%'"),
        ("100%_done", "'%100\\\\%\\\\_done%'"),
        ("C:\\temp", "'%c:\\\\\\\\temp%'"),
        ("tab\there\nnew", "'%tab\\there\\nnew%'"),
    ],
)
def test_grep_is_one_escaped_literal(grep, literal):
    sql = build_query(LogFilter(deployment_id="d_1", grep=grep), limit=10)
    assert sql == f"SELECT * FROM runtime_logs_v1 WHERE deployment_id = 'd_1' AND lower(message) LIKE {literal}" \
                  " ORDER BY time DESC LIMIT 10"


@pytest.mark.parametrize("bad", ["d_1' OR '1'='1", "d 1", "", "d_1;--"])
def test_ids_are_validated_not_quoted_blindly(bad):
    with pytest.raises(UsageError):
        build_query(LogFilter(deployment_id=bad), limit=10)


def test_severities_and_times_are_checked():
    assert parse_severities("error, Warn,warning,info") == ("ERROR", "WARN", "INFO")
    with pytest.raises(UsageError, match="unknown severity 'loud'"):
        parse_severities("error,loud")
    now = 1_800_000_000_000
    assert parse_time("--since", "15m", now_ms=now) == now - 15 * 60_000
    assert parse_time("--since", "1h30m", now_ms=now) == now - 90 * 60_000
    assert parse_time("--since", "2d", now_ms=now) == now - 2 * 86_400_000
    assert parse_time("--since", "2026-01-02T03:04:05Z", now_ms=now) == 1767323045000
    assert parse_time("--since", "2026-01-02T04:04:05+01:00", now_ms=now) == 1767323045000
    with pytest.raises(UsageError, match="--until must be a duration"):
        parse_time("--until", "yesterday", now_ms=now)
    with pytest.raises(UsageError, match="--limit must be between 1 and 10000"):
        build_query(LogFilter(), limit=0)


@pytest.fixture
def log_db(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    store = Store(path)
    rows = [
        (1000, "INFO", "started"),
        (2000, "ERROR", "it's broken: '; DROP TABLE runtime_logs; --"),
        (3000, "WARN", "100%_done"),
        (4000, "INFO", "100 percent done"),
        (5000, "ERROR", "C:\\temp missing"),
    ]
    with store.transaction() as db:
        db.executemany(
            "INSERT INTO runtime_logs (time, severity, message, project_id, app_id, environment_id, deployment_id)"
            " VALUES (?, ?, ?, 'p', 'a', 'e', 'd_1')", rows)
    store.close()
    return path


@pytest.mark.parametrize(
    ("grep", "expected"),
    [
        ("'; DROP TABLE runtime_logs; --", ["it's broken: '; DROP TABLE runtime_logs; --"]),
        ("it's", ["it's broken: '; DROP TABLE runtime_logs; --"]),
        ("100%_done", ["100%_done"]),  # % and _ are literal: "100 percent done" does not match
        ("c:\\temp", ["C:\\temp missing"]),
        ("' OR '1'='1", []),
    ],
)
def test_hostile_grep_only_ever_matches_text(log_db, grep, expected):
    sql = build_query(LogFilter(deployment_id="d_1", grep=grep), limit=100, newest_first=False)
    assert [row["message"] for row in logs_api.execute(log_db, sql)] == expected
    assert len(logs_api.execute(log_db, "SELECT * FROM runtime_logs_v1")) == 5  # nothing was dropped


def test_filters_run_on_the_local_translation(log_db):
    sql = build_query(LogFilter(deployment_id="d_1", since_ms=2000, until_ms=5000, severities=("ERROR", "WARN")),
                      limit=1)
    assert [row["message"] for row in logs_api.execute(log_db, sql)] == ["100%_done"]


@pytest.mark.parametrize(
    "raw",
    [
        "DELETE FROM runtime_logs_v1",
        "DELETE FROM runtime_logs",
        "ATTACH DATABASE '/tmp/x.db' AS x",
        "PRAGMA table_info(runtime_logs)",
        "SELECT * FROM deployments",
        "SELECT * FROM runtime_logs",
        "SELECT * FROM variables",
        "SELECT * FROM sqlite_master",
        "SELECT load_extension('x') FROM runtime_logs_v1",
        "INSERT INTO runtime_logs_v1 (message) VALUES ('x')",
    ],
)
def test_the_authorizer_refuses_everything_but_reading_the_view(log_db, raw):
    """Raw SQL straight to the confined connection (the parser never lets these through either)."""
    with pytest.raises(sqlite3.DatabaseError):
        logs_api.run_sql(log_db, raw)
    with pytest.raises(QueryError):
        translate(raw)
    assert len(logs_api.run_sql(log_db, "SELECT message FROM runtime_logs_v1")[1]) == 5


def test_the_time_and_row_limits_end_a_query(log_db):
    with pytest.raises(logs_api.QueryLimit, match="more than 2 rows"):
        logs_api.run_sql(log_db, "SELECT message FROM runtime_logs_v1", row_limit=2)
    store = Store(log_db)
    with store.transaction() as db:
        db.executemany("INSERT INTO runtime_logs (time, severity, message, project_id, app_id, environment_id,"
                       " deployment_id) VALUES (?, 'INFO', ?, 'p', 'a', 'e', 'd_1')",
                       ((i, f"line {i}") for i in range(200_000)))
    store.close()
    heavy = translate("SELECT message FROM runtime_logs_v1 WHERE lower(message) LIKE '%9%9%' ORDER BY message DESC")
    with pytest.raises(logs_api.QueryLimit, match="longer than"):
        logs_api.run_sql(log_db, heavy.sql, heavy.params, time_limit=0.05, row_limit=10**9)


def test_follow_cursor_hands_out_each_line_once_and_keeps_repeats():
    def row(t, message):
        return parse_row({"time": t, "severity": "INFO", "message": message})

    cursor = FollowCursor(0)
    assert [line.message for line in cursor.fresh([row(10, "a"), row(10, "a"), row(20, "b")])] == ["a", "a", "b"]
    # the next poll overlaps: seen lines are dropped, a third identical "a" and late lines show
    again = cursor.fresh([row(10, "a"), row(10, "a"), row(10, "a"), row(15, "late"), row(20, "b"), row(30, "c")])
    assert [line.message for line in again] == ["a", "late", "c"]
    assert cursor.since_ms == 30 - cursor.overlap_ms


def test_log_lines_are_printed_safely():
    line = parse_row({"time": "1767323045123", "severity": "error", "message": "bad \x1b[2J\x07 news\nnext",
                      "attributes": {"level": "error", "user": "u\x1b]0;x", "n": 3}})
    assert format_line(line) == "2026-01-02T03:04:05.123Z ERROR bad \\x1b[2J\\x07 news\\nnext user=u\\x1b]0;x n=3"
    colored = format_line(line, color=True)
    assert colored.count("\x1b") == 2 and "\x1b[31mERROR\x1b[0m" in colored
