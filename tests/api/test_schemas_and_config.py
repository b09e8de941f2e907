"""The request-body schemas and the config file writer, in process."""

from __future__ import annotations

import stat
import tomllib

import pytest

from unkey_deploy.api.schemas import check_body
from unkey_deploy.config import remove_root_key, toml_string, write_root_key
from unkey_deploy.errors import ConfigError


def problems(operation, body):
    return [str(p) for p in check_body(operation, body)]


def test_spec_examples_are_valid():
    assert problems("keys.updateCredits", {"keyId": "key_2cGKbMxRyIzhCxo1Idjz8q", "operation": "set",
                                           "value": 1000}) == []
    assert problems("keys.updateCredits", {"keyId": "key_1", "operation": "set", "value": None}) == []
    assert problems("keys.updateKey", {"keyId": "key_1", "name": None, "externalId": None, "meta": None,
                                       "expires": None, "credits": None, "enabled": False, "roles": [],
                                       "permissions": ["documents.*"], "ratelimits": []}) == []
    assert problems("identities.updateIdentity", {"identity": "user_123", "meta": {}, "ratelimits": []}) == []


@pytest.mark.parametrize(
    ("operation", "body", "expected"),
    [
        ("keys.updateCredits", {"keyId": "key_1", "operation": "increment"},
         ["value: is required for the increment operation"]),
        ("keys.updateCredits", {"keyId": "key_1", "operation": "set", "value": -1},
         ["value: must be at least 0, got -1"]),
        ("keys.updateCredits", {"keyId": "key_1", "operation": "set", "value": True},
         ["value: must be an integer or null, got true"]),
        ("keys.updateCredits", {"keyId": "key_1"}, ["operation: is required"]),
        ("keys.updateKey", {"keyId": "key_1", "ratelimits": None}, ["ratelimits: must be an array, got null"]),
        ("keys.updateKey", {"keyId": "key_1", "enabled": None}, ["enabled: must be true or false, got null"]),
        ("keys.updateKey", {"keyId": "key_1", "meta": {str(i): i for i in range(101)}},
         ["meta: must have at most 100 fields, got 101"]),
        ("keys.updateKey", {"keyId": "key_1", "expires": 4102444800001},
         ["expires: must be at most 4102444800000, got 4102444800001"]),
        ("keys.updateKey", {"keyId": "key_1", "roles": [""]}, ['roles[0]: must be at least 1 character, got ""']),
        ("keys.updateKey", {"keyId": "key_1", "credits": {"refill": {"interval": "monthly"}}},
         ["credits.refill.amount: is required"]),
        ("keys.updateKey", {"keyId": "key_1", "owner": "x"},
         ["owner: is not a known field (known: keyId, name, externalId, meta, expires, credits, "
          "ratelimits, enabled, roles, permissions)"]),
        ("identities.updateIdentity", {"identity": "", "meta": None},
         ['identity: must be at least 1 character, got ""', "meta: must be an object, got null"]),
        ("identities.updateIdentity", {"identity": "u", "ratelimits": [{"name": "abc", "limit": 1,
                                                                          "duration": 1000}] * 51},
         ["ratelimits: must have at most 50 entries, got 51", "ratelimits[0].autoApply: is required"]),
    ],
)
def test_problems(operation, body, expected):
    assert problems(operation, body)[: len(expected)] == expected


@pytest.mark.parametrize("value", ['a"b', "back\\slash", "tab\there", "nl\nx", "\x00\x1f\x7f", "ünïcødé", ""])
def test_toml_string_round_trips(value):
    assert tomllib.loads(f"k = {toml_string(value)}")["k"] == value


def test_write_and_remove_keep_tables_and_comments(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('# top\n[deploy]\nroot_key = "table-level"\nproject = "acme"\n')
    write_root_key("unkey_new", path)
    assert tomllib.loads(path.read_text()) == {
        "root_key": "unkey_new", "deploy": {"root_key": "table-level", "project": "acme"}
    }
    assert "# top" in path.read_text()
    assert remove_root_key(path) is True
    assert tomllib.loads(path.read_text()) == {"deploy": {"root_key": "table-level", "project": "acme"}}
    assert remove_root_key(path) is False


def test_write_follows_a_symlink_and_tightens_permissions(tmp_path):
    real = tmp_path / "dotfiles" / "unkey.toml"
    real.parent.mkdir()
    real.write_text('api_url = "http://127.0.0.1:7070"\n')
    real.chmod(0o644)
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    assert write_root_key("unkey_k", link) == real
    assert link.is_symlink()
    assert tomllib.loads(real.read_text()) == {"root_key": "unkey_k", "api_url": "http://127.0.0.1:7070"}
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_write_refuses_an_unparseable_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("not toml at all [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        write_root_key("unkey_k", path)
    assert path.read_text() == "not toml at all [\n"


def test_every_local_route_has_a_request_schema():
    from unkey_deploy.api.schemas import REQUEST_BODIES
    from unkey_deploy.local.deployments_api import ROUTES as DEPLOYMENT_ROUTES
    from unkey_deploy.local.keys_api import ROUTES as KEY_ROUTES

    assert set(KEY_ROUTES) | set(DEPLOYMENT_ROUTES) <= set(REQUEST_BODIES)


def test_rules_are_checked_alongside_the_schema():
    body = {"project": "ac", "app": "api", "environment": "production", "extra": True}
    assert problems("deployments.createDeployment", body) == [
        'project: must be at least 3 characters, got "ac"',
        "extra: is not a known field (known: project, app, environment, git, image, deployment)",
        "body: needs exactly one source of image, git or deployment, got none",
    ]
    assert problems("keys.updateCredits", ["set"]) == ['body: must be an object, got ["set"]']


def test_problems_say_how_to_fix_them():
    found = check_body("keys.updateKey", {"keyId": "key_1", "owner": "x", "credits": {"remaining": None,
                                                                                      "refill": {}}})
    assert [(p.location, p.fix) for p in found] == [
        ("owner", "remove `owner`"),
        ("credits.refill.interval", "add the `interval` field"),
        ("credits.refill.amount", "add the `amount` field"),
        ("credits.refill", "give remaining a number of credits, or leave refill out"),
    ]
