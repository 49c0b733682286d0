#!/usr/bin/env python3
"""Checks a running simulated daemon with nothing but Python's standard library, as any HTTP
JSON-RPC client would: Lotus-shaped results, go-jsonrpc error codes, auth refusal, control."""
import json
import os
import sys
import urllib.error
import urllib.request

PORT = os.environ["SIM_PORT"]
TOKEN = os.environ["SIM_TOKEN"]
CONTROL = os.environ["SIM_CONTROL_PORT"]


def rpc(method, params, token=TOKEN, path="/rpc/v1"):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        # go-jsonrpc answers protocol errors with HTTP 500 and a JSON-RPC body; 401 is not JSON.
        if error.code != 500:
            raise
        return error.code, json.loads(error.read())


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}")
        sys.exit(1)


status, head = rpc("Filecoin.ChainHead", [])
check(status == 200 and head["id"] == 1 and head["jsonrpc"] == "2.0", "ChainHead envelope")
tipset = head["result"]
check(isinstance(tipset["Height"], int) and tipset["Height"] == 2, "ChainHead height")
check(all(c["/"].startswith("bafy2bzace") for c in tipset["Cids"]), "tipset CIDs")
check(len(tipset["Blocks"]) == len(tipset["Cids"]), "one block per CID")
check(isinstance(tipset["Blocks"][0]["ParentWeight"], str), "ParentWeight is a decimal string")

_, actor = rpc("Filecoin.StateGetActor", ["f0100", []])
check(set(actor["result"]) >= {"Code", "Head", "Nonce", "Balance"}, "actor fields")

status, missing = rpc("Filecoin.Nope", [])
check(status == 500, "protocol errors come with HTTP 500")
check(missing["error"]["code"] == -32601 and missing["error"]["message"] == "method 'Filecoin.Nope' not found", "unknown method")
check(isinstance(missing["id"], int), "integer id on errors")

_, count = rpc("Filecoin.ChainHead", [1])
check(count["error"]["code"] == -32602, "wrong param count")

try:
    rpc("Filecoin.ChainHead", [], token="not.a.token")
    check(False, "a bad token was accepted")
except urllib.error.HTTPError as error:
    check(error.code == 401, "bad token refused with 401")

def control(path, body):
    request = urllib.request.Request(f"http://127.0.0.1:{CONTROL}{path}", data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


control("/daemons/0/lag", {"epochs": 2})
status = control("/advance", {"count": 3})
check(status["height"] == 5, "control endpoint advance")
_, lagged = rpc("Filecoin.ChainHead", [])
check(lagged["result"]["Height"] == 3, "lag visible over RPC: head trails the network by 2")

print("sim http check: ok")
