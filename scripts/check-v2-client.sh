#!/usr/bin/env bash
# Drives the simulator's REST v2 endpoints with a real third-party client:
# TSRestApiV2 of the PyPI package thoughtspot-rest-api-v1, against
# `tsmigrate sim --api v2` on loopback. Every answer is checked; a mismatch
# exits 1 naming it. Where the client departs from the v2 spec
# (../shared/reference/v2/openapi-subset.json) the departure is printed and
# the spec's request is sent instead (with the class's `post_request`).
#
#   scripts/check-v2-client.sh           # a fresh virtualenv in a scratch dir
#   V2_CLIENT_VENV=DIR scripts/check-v2-client.sh   # reuse (or create) DIR
#
# Network: pip installs from PyPI; the simulator listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "check-v2-client: python3 -m venv is not available." >&2
  echo "  Debian/Ubuntu: sudo apt-get install python3-venv (or python3.X-venv for your python3 -V)" >&2
  echo "  Fedora/RHEL:   sudo dnf install python3 (venv is included)" >&2
  exit 1
fi

scratch=$(mktemp -d)
sim=""
cleanup() {
  if [ -n "$sim" ]; then kill "$sim" 2>/dev/null || true; wait "$sim" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

venv=${V2_CLIENT_VENV:-$scratch/venv}
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv"; then
    echo "check-v2-client: python3 -m venv failed; install python3-venv (Debian/Ubuntu: sudo apt-get install python3-venv)" >&2
    exit 1
  fi
fi
if ! "$venv/bin/python" -c 'import thoughtspot_rest_api_v1' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check thoughtspot-rest-api-v1
fi

cargo build --release --quiet

# The example cluster without its APP action (v2 has no such type), and a
# second Org to check that tokens and sessions are bound to theirs.
python3 - "$scratch/state.json" <<'PY'
import json, sys
s = json.load(open("fixtures/example-cluster.json"))
s["actions"] = [a for a in s["actions"] if a["type"] != "APP"]
s["orgs"] = [{
    "id": 1, "name": "Marketing",
    "actions": [{"id": "a1000000-0000-4000-8000-000000000001", "name": "Mkt launch",
                 "version": "v4", "type": "CALLBACK", "context": "NONE", "application": "NONE",
                 "detail": {"link": "", "function": "mkt-launch", "authSelect": "NONE", "authToken": "",
                            "apiKey": "", "apiValue": "", "encodeUser": "", "additionalUrlHeaders": "{}"},
                 "actionAssociationMap": {}, "availability": ["GLOBAL"], "userGroupList": []}],
    "objects": [{"id": "91000000-0000-4000-8000-000000000001", "name": "Campaigns", "type": "QUESTION_ANSWER_BOOK"},
                {"id": "92000000-0000-4000-8000-000000000001", "name": "Marketing team", "type": "USER_GROUP"}],
}]
json.dump(s, open(sys.argv[1], "w"), indent=1)
PY

./target/release/tsmigrate sim --api v2 --listen 127.0.0.1:0 --state "$scratch/state.json" >"$scratch/out" 2>"$scratch/err" &
sim=$!
for _ in $(seq 100); do grep -q '^listening on ' "$scratch/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$scratch/out")
if [ -z "$url" ]; then
  echo "check-v2-client: the simulator did not start:" >&2
  cat "$scratch/err" >&2
  exit 1
fi

cat >"$scratch/drive.py" <<'PY'
"""Drives tsmigrate's simulator (REST v2) with TSRestApiV2 and checks the answers."""
import sys
from importlib.metadata import version

import requests
from thoughtspot_rest_api_v1 import TSRestApiV2

URL = sys.argv[1]
ADMIN = {"username": "admin", "password": "admin"}
ANSWER_QR = "3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35"   # "Quarterly revenue"
WORKSHEET = "8f4c2a6e-0b9d-4e13-a57c-1d3e5f7a9b02"   # "Sales worksheet"
SALES_MANAGERS = "b7e3a9c1-4d2f-4a60-9e85-3c1b7d9f2e04"

checked = []
deviations = []


class Mismatch(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Mismatch(what)


def ok(endpoint, what):
    if endpoint not in checked:
        checked.append(endpoint)
    print(f"ok  {endpoint}: {what}")


def refused(call, status, code):
    """`call` must raise an HTTPError with `status` and the v2 error `code`."""
    try:
        call()
    except requests.HTTPError as e:
        r = e.response
        expect(r.status_code == status, f"expected HTTP {status}, got {r.status_code}: {r.text[:300]}")
        body = r.json()
        got = body.get("error", {}).get("message", {})
        expect(got.get("code") == code, f"expected v2 error code {code}, got {body}")
        return got.get("debug", "")
    raise Mismatch(f"expected HTTP {status}; the call succeeded")


def recording(api):
    """Keeps every (url, json body) the client POSTs."""
    sent = []
    post = api.requests_session.post

    def recorded(url, *args, **kwargs):
        sent.append((url, kwargs.get("json")))
        return post(url, *args, **kwargs)

    api.requests_session.post = recorded
    return sent


def token_client(org_id):
    api = TSRestApiV2(server_url=URL)
    t = api.auth_token_full(username="admin", password="admin", org_id=org_id, validity_time_in_sec=600)
    api.bearer_token = t["token"]
    return api, t


def search_all(api, **body):
    return api.customization_custom_actions_search(
        dict(include_group_associations=True, include_metadata_associations=True, **body))


def names(items, field="name"):
    return [i[field] for i in items]


def main():
    # --- auth/token/full, auth/session/user -------------------------------
    api = TSRestApiV2(server_url=URL)
    t = api.auth_token_full(username="admin", password="admin", org_id=0, validity_time_in_sec=600)
    for field in ("token", "creation_time_in_millis", "expiration_time_in_millis", "scope",
                  "valid_for_user_id", "valid_for_username"):
        expect(field in t, f"auth/token/full answer lacks {field}: {t}")
    expect(t["scope"]["access_type"] == "FULL" and t["scope"]["org_id"] == 0, f"scope: {t['scope']}")
    expect(t["expiration_time_in_millis"] - t["creation_time_in_millis"] == 600_000, f"validity: {t}")
    expect(t["valid_for_username"] == "admin", f"valid_for_username: {t}")
    refused(lambda: TSRestApiV2(server_url=URL).auth_token_full(username="admin", password="wrong"), 401, 10097)
    ok("auth/token/full", "token in the Primary Org, 600 s; bad password 401 (10097)")
    api.bearer_token = t["token"]

    me = api.auth_session_user()
    expect(me["current_org"] == {"id": 0, "name": "Primary"}, f"current_org: {me}")
    expect(names(me["orgs"]) == ["Primary", "Marketing"], f"orgs: {me['orgs']}")
    expect(me["name"] == "admin" and me["visibility"] == "SHARABLE", f"user: {me}")
    ok("auth/session/user", "current_org Primary (0), orgs Primary and Marketing")

    # --- system/config, config-overrides, config-update --------------------
    expect(api.system_config() == {"okta_enabled": False, "onboarding_content_url": "", "saml_enabled": False},
           f"system/config: {api.system_config()}")
    ok("system/config", "saml_enabled false")
    info = api.system_config_overrides()["config_override_info"]
    expect(info.get("maxFilterValues") == 10000, f"maxFilterValues: {info}")
    expect(info.get("samlConfiguration.groupMapping") == "", f"dotted keys: {info}")
    expect("embedActionConfigList" not in info, "config-overrides lists the actions")
    ok("system/config-overrides", f"{len(info)} overridable keys, dotted, plain values")
    expect(api.system_config_update({"maxFilterValues": 4321, "samlConfiguration.enabled": True}) is True,
           "config-update did not answer 204")
    expect(api.system_config_overrides()["config_override_info"]["maxFilterValues"] == 4321, "update not seen")
    expect(api.system_config()["saml_enabled"] is True, "samlConfiguration.enabled not seen by system/config")
    refused(lambda: api.system_config_update({"noSuchKey.really": 1}), 400, 10002)
    refused(lambda: api.system_config_update({"maxFilterValues": "many"}), 400, 10002)
    refused(lambda: api.system_config_update({"embedActionConfigList": []}), 400, 10002)
    ok("system/config-update", "204, read back; unknown key, wrong type, embedActionConfigList 400 (10002)")

    # --- orgs/search -------------------------------------------------------
    orgs = api.orgs_search({})
    expect([(o["id"], o["name"], o["status"], o["visibility"]) for o in orgs]
           == [(0, "Primary", "ACTIVE", "SHOW"), (1, "Marketing", "ACTIVE", "SHOW")], f"orgs: {orgs}")
    expect(names(api.orgs_search({"org_identifier": "Marketing"})) == ["Marketing"], "by name")
    expect(names(api.orgs_search({"org_identifier": "1"})) == ["Marketing"], "by id")
    ok("orgs/search", "Primary (0) and Marketing (1); by name and by id")

    # --- metadata/search (paged) --------------------------------------------
    answers, offset = [], 0
    while True:
        page = api.metadata_search({"metadata": [{"type": "ANSWER"}], "record_offset": offset, "record_size": 1})
        answers += page
        if len(page) < 1:
            break
        offset += 1
    expect(names(answers, "metadata_name") == ["Quarterly revenue", "Churn by region"], f"answers: {answers}")
    expect(all(a["metadata_type"] == "ANSWER" and a["metadata_header"]["id"] == a["metadata_id"] for a in answers),
           f"answer entries: {answers}")
    ws = api.metadata_search({"metadata": [{"type": "LOGICAL_TABLE", "subtypes": ["WORKSHEET"]}]})
    expect([(w["metadata_id"], w["metadata_header"]["type"]) for w in ws] == [(WORKSHEET, "WORKSHEET")], f"{ws}")
    expect(len(api.metadata_search({})) == 5, "default record_size")
    refused(lambda: api.metadata_search({"record_size": -1}), 400, 10002)
    ok("metadata/search", "2 answers one page at a time, worksheets by subtype; record_size -1 400")

    # --- groups/search -----------------------------------------------------
    groups = api.groups_search({"record_offset": 0, "record_size": 10})
    expect(groups == [{"id": SALES_MANAGERS, "name": "Sales managers", "display_name": "Sales managers",
                       "visibility": "SHARABLE", "type": "LOCAL_GROUP"}], f"groups: {groups}")
    expect(api.groups_search({"record_offset": 1, "record_size": 10}) == [], "second page")
    ok("groups/search", "the Primary Org's group, paged")

    # --- customization/custom-actions/search ---------------------------------
    actions = search_all(api)
    expect(names(actions) == ["Open in CRM", "Notify owner"], f"actions: {names(actions)}")
    crm, notify = actions
    url = crm["action_details"]["URL"]
    expect(url["url"] == "https://crm.example.test/open" and url["reference"] == "open-in-crm", f"{url}")
    expect(list(url["authentication"]) == ["Bearer_Token"], f"authentication: {url}")
    expect(crm["default_action_config"] == {"visibility": True}, f"{crm}")
    expect(crm["metadata_association"] == [{"identifier": ANSWER_QR, "type": "ANSWER",
                                            "action_config": {"position": "MENU", "visibility": True}}], f"{crm}")
    expect(notify["action_details"] == {"CALLBACK": {"reference": "notify-owner"}}, f"{notify}")
    expect(notify["default_action_config"] == {"visibility": False}, f"{notify}")
    expect(notify["user_groups"] == [{"id": SALES_MANAGERS, "name": "Sales managers"}], f"{notify}")
    bare = api.customization_custom_actions_search({})
    expect(all("metadata_association" not in a and "user_groups" not in a for a in bare), "includes default false")
    expect(names(api.customization_custom_actions_search({"name_pattern": "crm"})) == ["Open in CRM"], "pattern")
    expect(names(api.customization_custom_actions_search({"type": "CALLBACK"})) == ["Notify owner"], "type")
    expect(api.customization_custom_actions_search({"custom_action_identifier": "no such action"}) == [], "unknown")
    ok("customization/custom-actions/search", "both actions with associations and groups; filters")

    # --- create ------------------------------------------------------------
    body = {
        "name": "Client check",
        "action_details": {"URL": {"url": "https://client-check.example.test/hook",
                                   "authentication": {"API_Key": {"key": "X-Key", "value": "v"}},
                                   "parameters": [{"key": "src", "value": "ts"}]}},
        "default_action_config": {"visibility": False},
        "associate_metadata": [{"identifier": "Quarterly revenue", "type": "ANSWER",
                                "action_config": {"position": "PRIMARY", "visibility": True}}],
        "group_identifiers": ["Sales managers"],
    }
    try:
        created = api.customization_custom_actions_create(body)
    except requests.HTTPError as e:
        expect(e.response.status_code == 404, f"create: HTTP {e.response.status_code}: {e.response.text[:300]}")
        deviations.append(
            "customization_custom_actions_create() POSTs to customization/custom-actions/create; the spec's "
            "create is POST customization/custom-actions (the simulator answers 404) - created with "
            "post_request('customization/custom-actions', ...)")
        created = api.post_request("customization/custom-actions", body)
    expect(created["name"] == "Client check", f"{created}")
    expect(created["action_details"] == {"URL": {
        "url": "https://client-check.example.test/hook", "reference": "Client check",
        "authentication": {"API_Key": {"key": "X-Key", "value": "v"}},
        "parameters": [{"key": "src", "value": "ts"}]}}, f"{created['action_details']}")
    expect(created["default_action_config"] == {"visibility": False}, f"{created}")
    expect(created["metadata_association"] == [{"identifier": ANSWER_QR, "type": "ANSWER",
                                                "action_config": {"position": "PRIMARY", "visibility": True}}],
           f"{created}")
    expect(created["user_groups"] == [{"id": SALES_MANAGERS, "name": "Sales managers"}], f"{created}")
    refused(lambda: api.post_request("customization/custom-actions", body), 400, 10002)
    ok("customization/custom-actions", "URL action with API key, parameters, association by name, group; "
                                       "duplicate name 400")
    action_id = created["id"]

    # --- update ------------------------------------------------------------
    expect(api.customization_custom_actions_update(action_id, {
        "name": "Client check renamed",
        "associate_metadata": [{"identifier": WORKSHEET, "type": "WORKSHEET"}],
        "operation": "ADD"}) is True, "update did not answer 204")
    [got] = search_all(api, custom_action_identifier=action_id)
    expect(got["name"] == "Client check renamed", f"{got}")
    expect(sorted(m["identifier"] for m in got["metadata_association"]) == sorted([ANSWER_QR, WORKSHEET]), f"{got}")
    # By name (with a space), REMOVE.
    expect(api.customization_custom_actions_update("Client check renamed", {
        "associate_metadata": [{"identifier": ANSWER_QR, "type": "ANSWER"}],
        "group_identifiers": [SALES_MANAGERS],
        "operation": "REMOVE"}) is True, "update (REMOVE) did not answer 204")
    [got] = search_all(api, custom_action_identifier="Client check renamed")
    expect(got["metadata_association"] == [{"identifier": WORKSHEET, "type": "WORKSHEET",
                                            "action_config": {"position": "MENU", "visibility": True}}], f"{got}")
    expect(got["user_groups"] == [], f"{got}")
    expect(api.customization_custom_actions_update(action_id, {
        "action_details": {"CALLBACK": {"reference": "client-check"}},
        "default_action_config": {"visibility": True}}) is True, "update (details) did not answer 204")
    [got] = search_all(api, custom_action_identifier=action_id)
    expect(got["action_details"] == {"CALLBACK": {"reference": "client-check"}}, f"{got}")
    expect(got["default_action_config"] == {"visibility": True}, f"{got}")
    debug = refused(lambda: api.customization_custom_actions_update("no-such-action", {"name": "x"}), 400, 10002)
    expect(debug == "Custom action with the specified identifier was not found.", debug)
    ok("customization/custom-actions/{id}/update", "rename + ADD by id, REMOVE by name, details; unknown 400")

    # --- delete ------------------------------------------------------------
    expect(api.customization_custom_actions_delete(action_id) is True, "delete did not answer 204")
    expect(api.customization_custom_actions_search({"custom_action_identifier": action_id}) == [], "still there")
    refused(lambda: api.customization_custom_actions_delete(action_id), 400, 10002)
    ok("customization/custom-actions/{id}/delete", "204, gone; again 400")

    # --- a token bound to another Org ----------------------------------------
    mkt, tm = token_client(1)
    expect(tm["scope"]["org_id"] == 1, f"{tm}")
    expect(names(search_all(mkt)) == ["Mkt launch"], "Marketing's actions")
    expect(mkt.auth_session_user()["current_org"] == {"id": 1, "name": "Marketing"}, "current_org")
    expect(names(mkt.groups_search({})) == ["Marketing team"], "Marketing's groups")
    expect(names(mkt.metadata_search({"metadata": [{"type": "ANSWER"}]}), "metadata_name") == ["Campaigns"],
           "Marketing's answers")
    ok("auth/token/full", "a token in Marketing (1) sees only Marketing's actions, groups and answers")

    # --- session auth --------------------------------------------------------
    s = TSRestApiV2(server_url=URL)
    sent = recording(s)
    s.auth_session_login(username="admin", password="admin", org_identifier=1)
    login_body = sent[-1][1]
    if isinstance(login_body.get("org_identifier"), int):
        deviations.append("auth_session_login() sends org_identifier as a JSON number (spec: string); "
                          "accepted, as a Java (Jackson) server coerces scalars")
    if isinstance(login_body.get("remember_me"), str):
        deviations.append(f"auth_session_login() sends remember_me as the string {login_body['remember_me']!r} "
                          "(spec: boolean); accepted, as a Java (Jackson) server coerces scalars")
    expect("JSESSIONID" in s.requests_session.cookies, "no JSESSIONID cookie")
    expect(s.auth_session_user()["current_org"]["id"] == 1, "session not in Marketing")
    expect(names(search_all(s)) == ["Mkt launch"], "session's actions")
    ok("auth/session/login", "204 + JSESSIONID in Marketing (org_identifier), its actions")
    st = s.auth_session_token()
    expect(st["valid_for_username"] == "admin" and st["token"], f"{st}")
    ok("auth/session/token", "a token for the session")
    expect(s.auth_session_logout() is True, "logout did not answer 204")
    refused(s.auth_session_user, 401, 10097)
    ok("auth/session/logout", "204; the session is gone (401 10097)")
    b = TSRestApiV2(server_url=URL)
    b.auth_session_login(bearer_token=tm["token"])
    expect(b.auth_session_user()["current_org"]["id"] == 1, "bearer session not in the token's Org")
    b.auth_session_logout()
    ok("auth/session/login", "a session from a bearer token, in the token's Org")

    # --- revoke ------------------------------------------------------------
    try:
        api.auth_token_revoke()
        revoked = True
    except requests.HTTPError as e:
        expect(e.response.status_code == 400, f"revoke: HTTP {e.response.status_code}: {e.response.text[:300]}")
        deviations.append(
            "auth_token_revoke() POSTs no body; the spec requires RevokeTokenRequest ({token} or "
            "{user_identifier}; the simulator answers 400 'Either user_identifier or token must be "
            "provided.') - revoked with post_request('auth/token/revoke', {'token': ...})")
        revoked = False
    if not revoked:
        expect(api.post_request("auth/token/revoke", {"token": t["token"]}) is True, "revoke did not answer 204")
    refused(api.system_config, 401, 10097)
    ok("auth/token/revoke", "204; the token is refused afterwards (401 10097)")


try:
    main()
except Mismatch as e:
    print(f"MISMATCH: {e}", file=sys.stderr)
    sys.exit(1)
except requests.HTTPError as e:
    r = e.response
    print(f"MISMATCH: unexpected HTTP {r.status_code} from {r.request.method} {r.url}: {r.text[:500]}",
          file=sys.stderr)
    sys.exit(1)
for d in deviations:
    print(f"client deviates from the spec: {d}")
print(f"v2 client check passed: thoughtspot-rest-api-v1 {version('thoughtspot-rest-api-v1')} TSRestApiV2 "
      f"against tsmigrate sim --api v2; {len(checked)} endpoints checked: {', '.join(checked)}")
PY

"$venv/bin/python" "$scratch/drive.py" "$url"
