"""`keys.*` and `identities.*` on `unkey local serve`, also driven by the real `unkey api` commands."""

from __future__ import annotations

import json


def create_key(server, **fields) -> str:
    response = server.call("keys.createKey", {"apiId": "api_local", "prefix": "test", **fields})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["key"].startswith("test_") and data["keyId"].startswith("key_")
    return data["keyId"]


def test_update_credits_operations(local_server):
    server = local_server()
    key_id = create_key(server, credits={"remaining": 10, "refill": {"interval": "daily", "amount": 10}})

    def credits(operation: str, value=None):
        body = {"keyId": key_id, "operation": operation, **({} if value is None else {"value": value})}
        return server.call("keys.updateCredits", body)

    assert credits("increment", 5).json()["data"]["remaining"] == 15
    assert credits("decrement", 100).json()["data"] == {
        "remaining": 0, "refill": {"interval": "daily", "amount": 10}}
    assert credits("set").json()["data"] == {"remaining": None}
    unlimited = credits("increment", 1)
    assert unlimited.status_code == 400 and "unlimited" in unlimited.json()["error"]["errors"][0]["message"]
    assert credits("set", 7).json()["data"] == {"remaining": 7}
    bad = server.call("keys.updateCredits", {"keyId": key_id, "operation": "double", "value": -1})
    assert {e["location"] for e in bad.json()["error"]["errors"]} == {"body.operation", "body.value"}
    missing = server.call("keys.updateCredits", {"keyId": "key_nothere", "operation": "set", "value": 1})
    assert missing.status_code == 404 and missing.json()["error"]["type"].endswith("/data/key_not_found")


def test_update_key_and_identities(local_server):
    server = local_server()
    key_id = create_key(server, name="old")
    response = server.call("keys.updateKey", {"keyId": key_id, "name": None, "enabled": False,
                                              "externalId": "user_1", "credits": {"remaining": 3}})
    assert response.status_code == 200 and response.json()["data"] == {}
    assert server.call("keys.updateCredits", {"keyId": key_id, "operation": "increment", "value": 1}
                       ).json()["data"]["remaining"] == 4
    assert server.call("keys.updateKey", {"keyId": key_id, "surprise": 1}).status_code == 400

    identity = server.call("identities.getIdentity", {"identity": "user_1"}).json()["data"]
    assert identity["externalId"] == "user_1" and identity["id"].startswith("id_")
    updated = server.call("identities.updateIdentity", {
        "identity": "user_1", "meta": {"plan": "pro"},
        "ratelimits": [{"name": "requests", "limit": 10, "duration": 60000, "autoApply": True}],
    })
    assert updated.status_code == 200
    data = updated.json()["data"]
    assert data["meta"] == {"plan": "pro"} and data["ratelimits"][0]["id"].startswith("rl_")
    assert data["ratelimits"][0]["limit"] == 10

    assert server.call("identities.createIdentity", {"externalId": "user_1"}).status_code == 409
    assert server.call("identities.updateIdentity", {"identity": "nobody", "meta": {}}).status_code == 404


def test_unkey_api_command_against_local(local_server, run_cli):
    server = local_server()
    key_id = create_key(server, credits={"remaining": 100})
    result = run_cli("api", "keys", "update-credits", f"--key-id={key_id}", "--operation=decrement",
                     "--value=30", "--output=json",
                     env={"UNKEY_ROOT_KEY": server.root_key, "UNKEY_API_BASE_URL": server.url})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data"]["remaining"] == 70


RATELIMIT = {"name": "requests", "limit": 10, "duration": 60000, "autoApply": True}
REJECTED = [
    ("keys.updateKey", {"keyId": "key_1234", "credits": {"remaining": None, "refill": {"interval": "daily",
                                                                                       "amount": 5}}},
     ["body.credits.refill"]),
    ("keys.updateKey", {"keyId": "key_1234", "credits": {"refill": {"interval": "daily", "amount": 5,
                                                                    "refillDay": 3}}},
     ["body.credits.refill.refillDay"]),
    ("keys.updateKey", {"keyId": "key_1234", "ratelimits": [{**RATELIMIT, "name": "ab", "autoapply": True}]},
     ["body.ratelimits[0].name", "body.ratelimits[0].autoapply"]),
    ("keys.createKey", {"apiId": "api_local", "permissions": ["docs read"], "credits": {"remaining": 5,
                                                                                        "refill": None}},
     ["body.permissions[0]", "body.credits.refill"]),
    ("keys.updateCredits", {"keyId": "key_1234", "operation": "decrement"}, ["body.value"]),
    ("identities.createIdentity", {"externalId": "user 1", "meta": []}, ["body.externalId", "body.meta"]),
    ("identities.getIdentity", {}, ["body.identity"]),
    ("deployments.listDeployments", {"app": "api", "environment": "production"}, ["body.app", "body.environment"]),
    ("deployments.createDeployment", ["not", "an", "object"], ["body"]),
    ("deploy.getDeployment", {"deploymentId": "dep_1"}, ["body.deploymentId"]),
]


def test_the_server_answers_what_the_shared_schemas_find(local_server):
    """Each 400 lists the same problems `unkey` finds before sending, located under `body`."""
    from unkey_deploy.api.schemas import check_body

    server = local_server()
    for operation, body, locations in REJECTED:
        response = server.call(operation, body)
        assert response.status_code == 400, (operation, response.text)
        errors = response.json()["error"]["errors"]
        assert [e["location"] for e in errors] == locations, (operation, errors)
        found = check_body(operation, body)
        assert [(e["message"], e.get("fix")) for e in errors] == [(p.message, p.fix) for p in found]
    unknown = server.call("keys.updateKey", {"keyId": "key_1234", "owner": "me"}).json()["error"]["errors"]
    assert unknown == [{"location": "body.owner", "fix": "remove `owner`",
                        "message": "is not a known field (known: keyId, name, externalId, meta, expires, credits, "
                                   "ratelimits, enabled, roles, permissions)"}]
