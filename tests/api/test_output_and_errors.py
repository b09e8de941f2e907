"""Both output modes, the global flags' precedence, and how each Unkey error envelope is reported."""

from __future__ import annotations

import json
import re

import pytest

CREDITS = {"remaining": 1000, "refill": {"interval": "monthly", "amount": 1000, "refillDay": 1}}
UPDATE = ("keys", "update-credits", "--key-id=key_1234abcd", "--operation=set", "--value=1000")


def test_default_output_is_request_id_latency_then_indented_data(unkey_api, api):
    api.data["keys.updateCredits"] = CREDITS
    result = unkey_api(*UPDATE)
    assert result.returncode == 0, result.stderr
    first, blank, *rest = result.stdout.splitlines()
    assert re.fullmatch(rf"{api.request_id} \(took \d+ms\)", first)
    assert blank == ""
    assert "\n".join(rest) == json.dumps(CREDITS, indent=2)
    assert result.stderr == ""


def test_json_output_is_the_whole_envelope(unkey_api, api):
    api.data["keys.updateCredits"] = CREDITS
    result = unkey_api(*UPDATE, "--output=json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"meta": {"requestId": api.request_id}, "data": CREDITS}


def test_update_key_prints_empty_data(unkey_api):
    result = unkey_api("keys", "update-key", "--key-id=key_1234abcd", "--name=x")
    assert result.stdout.splitlines()[1:] == ["", "{}"]


def test_flag_beats_environment_beats_config_file(run_cli, api, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'root_key = "unkey_fromfile"\napi_url = "{api.url}"\n')
    config.chmod(0o600)
    args = ("api", *UPDATE, f"--config={config}")

    assert run_cli(*args).returncode == 0
    assert api.requests[-1].headers["Authorization"] == "Bearer unkey_fromfile"
    assert run_cli(*args, env={"UNKEY_ROOT_KEY": "unkey_fromenv"}).returncode == 0
    assert api.requests[-1].headers["Authorization"] == "Bearer unkey_fromenv"
    result = run_cli(*args, "--root-key=unkey_fromflag", env={"UNKEY_ROOT_KEY": "unkey_fromenv"})
    assert result.returncode == 0
    assert api.requests[-1].headers["Authorization"] == "Bearer unkey_fromflag"
    # --api-url beats UNKEY_API_BASE_URL, which beats api_url in the file
    result = run_cli(*args, env={"UNKEY_API_BASE_URL": "http://127.0.0.1:9"})
    assert result.returncode == 1 and "cannot reach http://127.0.0.1:9" in result.stderr
    assert run_cli(*args, f"--api-url={api.url}", env={"UNKEY_API_BASE_URL": "http://127.0.0.1:9"}).returncode == 0
    assert "unkey_from" not in result.stdout + result.stderr


def test_config_file_readable_by_others_warns_once(run_cli, api, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'root_key = "unkey_fromfile"\napi_url = "{api.url}"\n')
    config.chmod(0o644)
    result = run_cli("api", *UPDATE, f"--config={config}")
    assert result.returncode == 0
    assert result.stderr.count(f"warning: {config} is readable by other users; run: chmod 600 {config}") == 1


def test_missing_root_key_is_a_usage_error(run_cli, api):
    result = run_cli("api", *UPDATE, f"--api-url={api.url}")
    assert result.returncode == 2
    assert "--root-key is required" in result.stderr
    assert api.requests == []


@pytest.mark.parametrize(
    ("status", "code", "headline"),
    [
        (400, 1, "error: the API rejected the request (keys.updateCredits): POST request body"),
        (401, 3, "error: the root key was not accepted (The provided root key is invalid.)"),
        (403, 3, "error: the root key lacks a permission for keys.updateCredits: Missing permission"),
        (404, 1, "error: not found: The specified key was not found."),
        (429, 1, "error: keys.updateCredits: rate limited: Too many requests, slow down."),
        (500, 1, "error: keys.updateCredits: server error 500: Something went wrong on our side."),
    ],
)
def test_error_envelopes(unkey_api, api, status, code, headline):
    errors = [{"location": "body.value", "message": "must be >= 0", "fix": "pass a positive number"}]
    api.fail(status, times=5, headers={"Retry-After": "0"}, errors=errors if status == 400 else None)
    result = unkey_api(*UPDATE)
    assert result.returncode == code
    lines = result.stderr.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("error: "))
    assert lines[at].startswith(headline), result.stderr
    details = lines[at + 1:]
    assert f"  request ID: req_err{status}" in details
    assert any(line.startswith("  docs: https://unkey.com/docs/errors/unkey/") for line in details)
    if status == 400:
        assert details[0] == "  body.value: must be >= 0 (fix: pass a positive number)"
    if status in (429, 500):
        assert len(api.requests) == 5  # retried after Retry-After: 0, then given up
        assert lines[:at] and all(line.startswith("warning: ") for line in lines[:at])
    else:
        assert len(api.requests) == 1 and at == 0
    assert result.stdout == ""
    assert api.root_key not in result.stderr
    assert "Traceback" not in result.stderr
