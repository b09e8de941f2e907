"""The `unkey api` key and identity commands against `unkey local serve` (its SQLite store)."""

from __future__ import annotations

import json

import pytest

from tests.local.conftest import start_server


@pytest.fixture
def local(tmp_path):
    server = start_server(tmp_path / "local", "--runtime", "simulate")
    yield server
    server.stop()


@pytest.fixture
def unkey_local(run_cli, local):
    def run(*args: str, root_key: str | None = None):
        env = {"UNKEY_ROOT_KEY": root_key or local.root_key, "UNKEY_API_BASE_URL": local.url}
        return run_cli("api", *args, env=env)

    return run


def data_of(result) -> object:
    assert result.returncode == 0, result.stderr
    head, blank, *rest = result.stdout.splitlines()
    assert head.startswith("req_") and " (took " in head and blank == ""
    return json.loads("\n".join(rest))


def test_credits_round_trip(local, unkey_local):
    created = local.call("keys.createKey", {"apiId": "api_local", "credits": {"remaining": 100}})
    key_id = created.json()["data"]["keyId"]
    credits = ("keys", "update-credits", f"--key-id={key_id}")

    assert data_of(unkey_local(*credits, "--operation=set", "--value=0")) == {"remaining": 0}
    assert data_of(unkey_local(*credits, "--operation=increment", "--value=5")) == {"remaining": 5}
    assert data_of(unkey_local(*credits, "--operation=decrement", "--value=9")) == {"remaining": 0}
    unlimited = unkey_local(*credits, "--operation=set", "--output=json")
    assert json.loads(unlimited.stdout)["data"] == {"remaining": None}

    missing = unkey_local("keys", "update-credits", "--key-id=key_missing", "--operation=set", "--value=1")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: not found")
    assert missing.stderr.splitlines()[1].startswith("  request ID: req_")
    denied = unkey_local(*credits, "--operation=set", "--value=1", root_key="unkey_wrong_key_0000")
    assert denied.returncode == 3


def test_update_key_then_identity(local, unkey_local):
    key_id = local.call("keys.createKey", {"apiId": "api_local", "name": "old"}).json()["data"]["keyId"]
    result = unkey_local("keys", "update-key", f"--key-id={key_id}", "--external-id=user_local",
                         "--enabled=false", "--meta-json={}", "--clear=name")
    assert data_of(result) == {}

    identity = ("identities", "update-identity", "--identity=user_local")
    data = data_of(unkey_local(*identity, '--meta-json={"plan":"pro"}',
                               '--ratelimits-json=[{"name":"requests","limit":10,"duration":60000}]'))
    assert data["externalId"] == "user_local" and data["meta"] == {"plan": "pro"}
    assert [(r["name"], r["limit"], r["duration"], r["autoApply"]) for r in data["ratelimits"]] == [
        ("requests", 10, 60000, False)
    ]
    # [] removes every rate limit and leaves the metadata alone; {} then clears the metadata
    data = data_of(unkey_local(*identity, "--ratelimits-json=[]"))
    assert data["ratelimits"] == [] and data["meta"] == {"plan": "pro"}
    data = data_of(unkey_local(*identity, "--meta-json={}"))
    assert data["meta"] == {} and data["ratelimits"] == []
