"""Settings as code: unkey.yaml's `environments:` section, and the JSON Schema shipped for editors."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from unkey_deploy.api.schemas import SETTINGS_FIELDS, check_body
from unkey_deploy.api.settings_check import load_settings
from unkey_deploy.errors import ConfigError
from unkey_deploy.settings_code import FIELDS, HEALTHCHECK_KEYS, KEYS


def _schema() -> dict:
    return json.loads(resources.files("unkey_deploy").joinpath("unkey.schema.json").read_text())


def test_the_shipped_schema_describes_exactly_the_settings_the_cli_reads():
    schema = _schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    env = schema["$defs"]["environment"]
    assert env["additionalProperties"] is False
    assert set(env["properties"]) == set(KEYS)
    check = next(s for s in env["properties"]["healthcheck"]["oneOf"] if s.get("type") == "object")
    assert set(check["properties"]) <= set(HEALTHCHECK_KEYS)
    for key in ("port", "cpu", "memory", "storage"):
        spec = SETTINGS_FIELDS[FIELDS[key]]
        mine = env["properties"][key]
        assert {k: mine.get(k) for k in ("minimum", "maximum", "multipleOf")} == \
            {k: spec.get(k) for k in ("minimum", "maximum", "multipleOf")}, key
    assert {"project", "app", "image", "variables", "build", "static", "environments"} <= set(schema["properties"])


def test_friendly_forms_become_update_settings_fields(tmp_path):
    (tmp_path / "unkey.yaml").write_text(
        "project: acme\napp: api\nimage: ghcr.io/acme/api\nenvironments:\n  production:\n    port: 3000\n"
        "    healthcheck: GET /healthz\n    cpu: 1\n    memory: 512\n    command: node server.js --port 3000\n"
        "    regions: [us-east-1, {name: eu-west-1, replicas: {min: 1, max: 3}}]\n    protocol: h2c\n"
        "    domains: [API.acme.dev]\n  preview:\n    healthcheck: {path: /ready, interval: 5}\n"
    )
    code = load_settings(tmp_path)
    assert (code.project, code.app) == ("acme", "api")
    production = code.environments["production"]
    assert production.settings == {
        "port": 3000, "healthcheck": {"method": "GET", "path": "/healthz"}, "vCpus": 1, "memoryMib": 512,
        "command": ["node", "server.js", "--port", "3000"], "upstreamProtocol": "h2c",
        "regions": [{"name": "us-east-1", "replicas": {"min": 1, "max": 1}},
                    {"name": "eu-west-1", "replicas": {"min": 1, "max": 3}}],
    }
    assert production.domains == ["api.acme.dev"]
    assert code.environments["preview"].settings == {
        "healthcheck": {"method": "GET", "path": "/ready", "intervalSeconds": 5}}
    body = {"project": "acme", "app": "api", "environment": "production", **production.settings}
    assert check_body("environments.updateSettings", body) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("environments:\n  production:\n    colour: blue\n", "line 3: environments.production.colour is not a known"),
        ("environments:\n  production:\n    port: high\n", "line 3: environments.production.port must be an integer"),
        ("environments:\n  production:\n    cpu: 0.3\n", "line 3: environments.production.cpu must be a multiple"),
        ("environments:\n  production:\n    memory: 100\n", "environments.production.memory must be at least 256"),
        ("environments:\n  production:\n    healthcheck: {path: /x, every: 3}\n", "healthcheck.every is not a health"),
        ("environments:\n  production:\n    healthcheck: GET healthz\n", "healthcheck.path must match"),
        ("environments: [production]\n", "line 1: environments must be a mapping"),
        ("environments:\n  production: 3000\n", "line 2: environments.production must be a mapping"),
        ("environments:\n  production:\n    domains: api.acme.dev\n", "domains must be a list"),
        ("project: [a]\n", "line 1: project must be a slug"),
    ],
)
def test_unknown_keys_and_wrong_types_name_file_line_and_reason(tmp_path, text, message):
    (tmp_path / "unkey.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert str(tmp_path / "unkey.yaml") in caught.value.message
    assert message in caught.value.message


def test_no_file_means_no_settings(tmp_path):
    assert load_settings(tmp_path).path is None
