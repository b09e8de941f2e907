"""`unkey api keys update-key`: omitted stays omitted, null clears, false and 0 are sent as they are."""

from __future__ import annotations

import pytest

KEY = {"keyId": "key_1234abcd"}


@pytest.mark.parametrize(
    ("flags", "fields"),
    [
        # the reference page's examples
        (["--name=Updated Key Name"], {"name": "Updated Key Name"}),
        (["--enabled=false"], {"enabled": False}),
        (["--external-id=user_5678", "--roles=api_admin,billing_reader"],
         {"externalId": "user_5678", "roles": ["api_admin", "billing_reader"]}),
        (['--meta-json={"plan":"enterprise","team":"acme"}'], {"meta": {"plan": "enterprise", "team": "acme"}}),
        (['--credits-json={"remaining":5000,"refill":{"interval":"monthly","amount":5000}}'],
         {"credits": {"remaining": 5000, "refill": {"interval": "monthly", "amount": 5000}}}),
        (['--ratelimits-json=[{"name":"requests","limit":500,"duration":60000,"autoApply":true}]'],
         {"ratelimits": [{"name": "requests", "limit": 500, "duration": 60000, "autoApply": True}]}),
        (["--name=Scripted Update", "--output=json"], {"name": "Scripted Update"}),
        # booleans, empties, zeros and nulls
        (["--enabled", "true"], {"enabled": True}),
        (["--enabled=FALSE"], {"enabled": False}),
        (["--meta-json={}"], {"meta": {}}),
        (["--meta-json=null"], {"meta": None}),
        (["--credits-json=null"], {"credits": None}),
        (['--credits-json={"remaining":0}'], {"credits": {"remaining": 0}}),
        (['--credits-json={"remaining":null}'], {"credits": {"remaining": None}}),
        (['--credits-json={"refill":null}'], {"credits": {"refill": None}}),
        (['--credits-json={"remaining":10,"refill":{"interval":"monthly","amount":10,"refillDay":15}}'],
         {"credits": {"remaining": 10, "refill": {"interval": "monthly", "amount": 10, "refillDay": 15}}}),
        (["--ratelimits-json=[]"], {"ratelimits": []}),
        (['--ratelimits-json=[{"name":"requests","limit":1,"duration":1000}]'],
         {"ratelimits": [{"name": "requests", "limit": 1, "duration": 1000, "autoApply": False}]}),
        (["--roles="], {"roles": []}),
        (["--permissions=documents.read, documents.*"], {"permissions": ["documents.read", "documents.*"]}),
        (["--expires=0"], {"expires": 0}),
        (["--expires=4102444800000"], {"expires": 4102444800000}),
        (["--expires=2099-12-31T23:00:00Z"], {"expires": 4102441200000}),
        (["--expires=2099-12-31T23:00:00+01:00"], {"expires": 4102437600000}),
        (["--expires=2099-12-31"], {"expires": 4102358400000}),
        (["--clear=name"], {"name": None}),
        (["--clear=expires,external-id", "--clear", "meta"], {"expires": None, "externalId": None, "meta": None}),
        (["--clear=credits", "--enabled=true"], {"credits": None, "enabled": True}),
    ],
)
def test_body(unkey_api, sent, flags, fields):
    result = unkey_api("keys", "update-key", "--key-id=key_1234abcd", *flags)
    assert result.returncode == 0, result.stderr
    assert sent("keys.updateKey") == {**KEY, **fields}


def test_expires_in_the_past_warns_but_is_sent(unkey_api, sent):
    result = unkey_api("keys", "update-key", "--key-id=key_1234abcd", "--expires=1704067200")
    assert result.returncode == 0, result.stderr
    assert "warning: --expires 1970-01-20T17:21:07Z is in the past" in result.stderr
    assert "in milliseconds that is 1704067200000" in result.stderr
    assert sent("keys.updateKey") == {**KEY, "expires": 1704067200}


def test_future_expiry_does_not_warn(unkey_api, sent):
    result = unkey_api("keys", "update-key", "--key-id=key_1234abcd", "--expires=2099-01-01T00:00:00Z")
    assert result.returncode == 0
    assert "warning" not in result.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (['--meta-json={"plan":"pro",}'],
         "--meta-json is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 15"),
        (["--meta-json={'plan':'pro'}"], "--meta-json is not valid JSON"),
        (['--credits-json={"remaining":NaN}'], "--credits-json is not valid JSON: NaN is not allowed"),
        (["--meta-json=[1]"], "--meta-json: must be an object or null, got [1]"),
        (["--ratelimits-json=null"], "--ratelimits-json cannot be null: pass --ratelimits-json='[]'"),
        (['--ratelimits-json={"name":"requests"}'], "--ratelimits-json: must be an array"),
        (['--ratelimits-json=[{"name":"rq","limit":5,"duration":1000}]'],
         '--ratelimits-json [0].name: must be at least 3 characters, got "rq"'),
        (['--ratelimits-json=[{"name":"requests","limit":0,"duration":1000}]'],
         "--ratelimits-json [0].limit: must be at least 1, got 0"),
        (['--ratelimits-json=[{"name":"requests","limit":5,"duration":1.5}]'],
         "--ratelimits-json [0].duration: must be an integer, got 1.5"),
        (['--ratelimits-json=[{"name":"requests","limit":5,"duration":60000,"autoapply":true}]'],
         "--ratelimits-json [0].autoapply: is not a known field"),
        (['--ratelimits-json=[{"name":"requests","limit":5,"duration":60000,"autoApply":"yes"}]'],
         "--ratelimits-json [0].autoApply: must be true or false"),
        (['--credits-json={"remaining":-1}'], "--credits-json remaining: must be at least 0, got -1"),
        (['--credits-json={"refill":{"interval":"weekly","amount":5}}'],
         "--credits-json refill.interval: must be one of daily, monthly"),
        (['--credits-json={"refill":{"interval":"daily","amount":5,"refillDay":3}}'],
         "--credits-json refill.refillDay: is only allowed with interval monthly"),
        (['--credits-json={"remaining":null,"refill":{"interval":"daily","amount":5}}'],
         "--credits-json refill: cannot be set with unlimited credits"),
        (["--enabled=yes"], "--enabled must be true or false, got 'yes'"),
        (["--roles=a,,b"], "--roles has an empty name"),
        (["--permissions=docs read"], "--permissions [0]: must match"),
        (["--external-id=user 1"], "--external-id: must match"),
        (["--name="], '--name: must be at least 1 character, got ""'),
        (["--expires=tomorrow"], "--expires must be Unix milliseconds (e.g. 1893456000000) or an ISO-8601 time"),
        (["--expires=4102444800001"], "--expires must be between 1970 and 2100-01-01T00:00:00Z"),
        (["--clear=roles"], "--clear accepts name, external-id, expires, meta, credits; got 'roles'"),
        (["--clear=name", "--name=x"], "--clear=name conflicts with --name"),
        ([], "nothing to update"),
        (["--output=yaml", "--name=x"], "--output must be json or text, got 'yaml'"),
    ],
)
def test_usage_errors_send_nothing(unkey_api_in_process, api, flags, message):
    result = unkey_api_in_process("keys", "update-key", "--key-id=key_1234abcd", *flags)
    assert result.returncode == 2, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: ") and message in first, result.stderr
    assert "Traceback" not in result.stderr
    assert api.requests == []


def test_bad_key_id_is_caught_locally(unkey_api, api):
    result = unkey_api("keys", "update-key", "--key-id=key-1", "--name=x")
    assert result.returncode == 2
    assert "--key-id: must match" in result.stderr
    assert api.requests == []


def test_json_error_points_at_the_position(unkey_api):
    result = unkey_api("keys", "update-key", "--key-id=key_1234abcd", '--meta-json={"a":1 "b":2}')
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert "line 1, column 8" in lines[0]
    assert lines[1:] == ['  {"a":1 "b":2}', "         ^"]


def test_several_problems_are_each_listed(unkey_api):
    result = unkey_api(
        "keys", "update-key", "--key-id=key_1234abcd",
        '--ratelimits-json=[{"name":"ab","limit":0,"duration":5}]',
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: 3 problems with the flags; fix them and retry",
        '  --ratelimits-json [0].name: must be at least 3 characters, got "ab"',
        "  --ratelimits-json [0].limit: must be at least 1, got 0",
        "  --ratelimits-json [0].duration: must be at least 1000, got 5",
    ]
