#!/usr/bin/env python3
"""A minimal MCP server on stdio (JSON-RPC 2.0, one message per line) for
tests: answers initialize, tools/list (one tool, "echo") and tools/call,
ignores notifications. argv[1], if given, is a file it appends its pid
and each method to, so a test sees that the agent started it."""
import json
import os
import sys

log = sys.argv[1] if len(sys.argv) > 1 else None


def note(s):
    if log:
        with open(log, "a") as f:
            f.write("%d %s\n" % (os.getpid(), s))


def reply(mid, result):
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": mid, "result": result}) + "\n")
    sys.stdout.flush()


note("start")
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    method = msg.get("method", "")
    note(method)
    if "id" not in msg:
        continue
    if method == "initialize":
        reply(msg["id"], {"protocolVersion": msg.get("params", {}).get("protocolVersion", "2025-06-18"),
                          "capabilities": {"tools": {}},
                          "serverInfo": {"name": "aw-test-tool", "version": "1.0"}})
    elif method == "tools/list":
        reply(msg["id"], {"tools": [{"name": "echo", "description": "Echo the text back",
                                     "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}]})
    elif method == "tools/call":
        text = msg.get("params", {}).get("arguments", {}).get("text", "")
        reply(msg["id"], {"content": [{"type": "text", "text": text}]})
    else:
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": msg["id"],
                                     "error": {"code": -32601, "message": "no such method"}}) + "\n")
        sys.stdout.flush()
note("eof")
