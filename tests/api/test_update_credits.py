"""`unkey api keys update-credits`: the exact body for each flag combination."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("flags", "body"),
    [
        (["--operation=set", "--value=1000"], {"keyId": "key_1234abcd", "operation": "set", "value": 1000}),
        (["--operation=increment", "--value=500"],
         {"keyId": "key_1234abcd", "operation": "increment", "value": 500}),
        (["--operation=decrement", "--value=100"],
         {"keyId": "key_1234abcd", "operation": "decrement", "value": 100}),
        (["--operation=set", "--value=1000", "--output=json"],
         {"keyId": "key_1234abcd", "operation": "set", "value": 1000}),
        # set without --value: no value at all, the key becomes unlimited
        (["--operation=set"], {"keyId": "key_1234abcd", "operation": "set"}),
        # zero is a value, not "omitted": the key keeps zero credits
        (["--operation=set", "--value=0"], {"keyId": "key_1234abcd", "operation": "set", "value": 0}),
        (["--operation", "decrement", "--value", "0"],
         {"keyId": "key_1234abcd", "operation": "decrement", "value": 0}),
    ],
)
def test_body(unkey_api, sent, flags, body):
    result = unkey_api("keys", "update-credits", "--key-id=key_1234abcd", *flags)
    assert result.returncode == 0, result.stderr
    assert sent("keys.updateCredits") == body


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--operation=increment"], "--value is required with --operation=increment"),
        (["--operation=decrement"], "--value is required with --operation=decrement"),
        (["--operation=set", "--value=-5"], "--value must be a non-negative integer, got '-5'"),
        (["--operation=set", "--value", "-5"], "--value must be a non-negative integer, got '-5'"),
        (["--operation=set", "--value=1.5"], "--value must be a non-negative integer"),
        (["--operation=set", "--value=9223372036854775808"], "--value must be at most 9223372036854775807"),
        (["--operation=add", "--value=5"], "--operation must be set, increment or decrement, got 'add'"),
        (["--value=5"], "Missing option '--operation'"),
    ],
)
def test_usage_errors_send_nothing(unkey_api_in_process, api, flags, message):
    result = unkey_api_in_process("keys", "update-credits", "--key-id=key_1234abcd", *flags)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert api.requests == []


def test_increment_is_not_retried_after_a_server_error(unkey_api, api):
    api.fail(500, headers={"Retry-After": "0"})
    result = unkey_api("keys", "update-credits", "--key-id=key_1234abcd", "--operation=increment", "--value=5")
    assert result.returncode == 1
    assert len(api.requests) == 1


def test_set_is_retried_after_a_server_error(unkey_api, api):
    api.fail(500, headers={"Retry-After": "0"})
    result = unkey_api("keys", "update-credits", "--key-id=key_1234abcd", "--operation=set", "--value=5")
    assert result.returncode == 0, result.stderr
    assert len(api.requests) == 2
    assert "retrying" in result.stderr
