"""`unkey api identities update-identity`: {} clears metadata, [] removes rate limits, omitted is unchanged."""

from __future__ import annotations

import pytest

IDENTITY = {"identity": "user_123"}


@pytest.mark.parametrize(
    ("flags", "fields"),
    [
        # the reference page's examples
        (['--meta-json={"plan":"premium","name":"Alice Smith"}'],
         {"meta": {"plan": "premium", "name": "Alice Smith"}}),
        (['--ratelimits-json=[{"name":"requests","limit":1000,"duration":3600000,"autoApply":true}]'],
         {"ratelimits": [{"name": "requests", "limit": 1000, "duration": 3600000, "autoApply": True}]}),
        (['--meta-json={"plan":"enterprise"}', "--output=json"], {"meta": {"plan": "enterprise"}}),
        # clearing, and leaving the other field alone
        (["--meta-json={}"], {"meta": {}}),
        (["--ratelimits-json=[]"], {"ratelimits": []}),
        (["--meta-json={}", "--ratelimits-json=[]"], {"meta": {}, "ratelimits": []}),
        (['--ratelimits-json=[{"name":"tokens","limit":10,"duration":1000},'
          '{"name":"downloads","limit":3,"duration":86400000,"autoApply":false}]'],
         {"ratelimits": [{"name": "tokens", "limit": 10, "duration": 1000, "autoApply": False},
                         {"name": "downloads", "limit": 3, "duration": 86400000, "autoApply": False}]}),
        (['--meta-json={"nested":{"list":[],"empty":{},"zero":0,"off":false,"none":null}}'],
         {"meta": {"nested": {"list": [], "empty": {}, "zero": 0, "off": False, "none": None}}}),
    ],
)
def test_body(unkey_api, sent, flags, fields):
    result = unkey_api("identities", "update-identity", "--identity=user_123", *flags)
    assert result.returncode == 0, result.stderr
    assert sent("identities.updateIdentity") == {**IDENTITY, **fields}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--meta-json=null"], "--meta-json cannot be null: pass --meta-json='{}' to clear the metadata"),
        (["--ratelimits-json=null"], "--ratelimits-json cannot be null: pass --ratelimits-json='[]'"),
        (['--ratelimits-json=[{"name":"ab","limit":1,"duration":1000}]'],
         '--ratelimits-json [0].name: must be at least 3 characters, got "ab"'),
        (['--ratelimits-json=[{"name":"requests","limit":-1,"duration":1000}]'],
         "--ratelimits-json [0].limit: must be at least 1, got -1"),
        (['--ratelimits-json=[{"name":"requests","limit":1}]'], "--ratelimits-json [0].duration: is required"),
        (["--ratelimits-json=[1]"], "--ratelimits-json [0]: must be an object, got 1"),
        (['--meta-json="plan"'], '--meta-json: must be an object, got "plan"'),
        (["--meta-json={"], "--meta-json is not valid JSON"),
        ([], "nothing to update: pass --meta-json and/or --ratelimits-json"),
    ],
)
def test_usage_errors_send_nothing(unkey_api_in_process, api, flags, message):
    result = unkey_api_in_process("identities", "update-identity", "--identity=user_123", *flags)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr.splitlines()[0]
    assert api.requests == []


def test_identity_is_required(unkey_api, api):
    result = unkey_api("identities", "update-identity", "--meta-json={}")
    assert result.returncode == 2
    assert "Missing option '--identity'" in result.stderr
    assert api.requests == []
