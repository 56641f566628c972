#!/usr/bin/env python3
"""Scripted, offline mock of the OpenAI Responses API for driving the real
Codex CLI in tests.

Usage: python3 mock_openai.py PORTFILE LOGFILE

Binds 127.0.0.1 on an ephemeral port, writes the port number to PORTFILE
(atomically, via rename), and appends the path of every request it receives
to LOGFILE, one line per request.  A one-line description of each request
and of the answer given goes to stderr.

Codex (verified with codex-cli 0.171.0) only speaks the Responses API to a
custom model provider (`wire_api = "responses"`; "chat" was removed): it
POSTs to <base_url>/responses with "stream": true and expects Server-Sent
Events.  The scripted conversation is:

  1. a turn whose input holds no tool output yet -> one function call that
     makes hello.txt (in Codex's working directory) contain exactly the line
     "edited by codex".  The tool is picked from the tools the request
     offers: exec_command (unified exec, the default in 0.171.0),
     shell_command, shell, local_shell or apply_patch. MOCK_OPENAI_COMMAND,
     when set, is the shell command instead (apply_patch, used only when
     no shell tool is offered, still edits hello.txt).
  2. a turn whose input already holds a tool output -> the final assistant
     message "done", ending the turn.
  (If a request body cannot be parsed, the order decides instead: the first
  /responses request gets the tool call, later ones "done".)

Any other path gets a small JSON answer (e.g. GET /v1/models -> empty
model list) so Codex never hangs.  Standard library only.
"""

import mockhttp
import json
import os
import sys
import threading

TARGET_FILE = "hello.txt"
TARGET_LINE = "edited by codex"
# MOCK_OPENAI_COMMAND replaces the shell command of the tool call (say,
# "cat ~/.ssh/id_rsa": what a session refuses and records).
SHELL_CMD = os.environ.get("MOCK_OPENAI_COMMAND",
                           "printf 'edited by codex\\n' > hello.txt")
APPLY_PATCH = (
    "*** Begin Patch\n"
    "*** Delete File: hello.txt\n"
    "*** Add File: hello.txt\n"
    "+edited by codex\n"
    "*** End Patch\n"
)

_lock = threading.Lock()
_state = {"n": 0, "logfile": None}


def _log_path(path):
    with _lock:
        with open(_state["logfile"], "a", encoding="utf-8") as f:
            f.write(path + "\n")
            f.flush()


def _note(msg):
    sys.stderr.write("mock_openai: %s\n" % msg)
    sys.stderr.flush()


def _next_id():
    with _lock:
        _state["n"] += 1
        return _state["n"]


def _usage():
    return {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 5,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 15,
    }


def _has_tool_output(items):
    """True if the conversation already contains a tool result."""
    if not isinstance(items, list):
        return False
    for it in items:
        if isinstance(it, dict) and str(it.get("type", "")).endswith("_output"):
            return True
    return False


def _tool_names(tools):
    names = set()
    for t in tools or []:
        if not isinstance(t, dict):
            continue
        if t.get("type") == "local_shell":
            names.add("local_shell")
        if t.get("name"):
            names.add(t["name"])
    return names


def _tool_call_item(tools, k):
    """Build the output item that edits hello.txt with an offered tool."""
    names = _tool_names(tools)
    call_id = "call_mock_%d" % k
    fc = {"type": "function_call", "id": "fc_mock_%d" % k,
          "call_id": call_id, "status": "completed"}
    if "exec_command" in names or not names:
        fc.update(name="exec_command", arguments=json.dumps(
            {"cmd": SHELL_CMD, "login": False, "tty": False,
             "yield_time_ms": 10000}))
        return fc
    if "shell_command" in names:
        fc.update(name="shell_command", arguments=json.dumps(
            {"command": SHELL_CMD, "login": False, "timeout_ms": 30000}))
        return fc
    if "shell" in names:
        fc.update(name="shell", arguments=json.dumps(
            {"command": ["sh", "-c", SHELL_CMD], "timeout_ms": 30000}))
        return fc
    if "local_shell" in names:
        return {"type": "local_shell_call", "id": "ls_mock_%d" % k,
                "call_id": call_id, "status": "completed",
                "action": {"type": "exec", "command": ["sh", "-c", SHELL_CMD],
                           "timeout_ms": 30000}}
    if "apply_patch" in names:
        spec = next((t for t in tools if isinstance(t, dict)
                     and t.get("name") == "apply_patch"), {})
        if spec.get("type") == "custom":
            return {"type": "custom_tool_call", "id": "ctc_mock_%d" % k,
                    "call_id": call_id, "status": "completed",
                    "name": "apply_patch", "input": APPLY_PATCH}
        fc.update(name="apply_patch",
                  arguments=json.dumps({"input": APPLY_PATCH}))
        return fc
    # Unknown tool set: try exec_command anyway.
    fc.update(name="exec_command", arguments=json.dumps({"cmd": SHELL_CMD}))
    return fc


def _message_item(k, text):
    return {"type": "message", "id": "msg_mock_%d" % k, "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": text,
                         "annotations": []}]}


def _sse(events):
    out = []
    for ev in events:
        out.append("event: %s\ndata: %s\n\n" % (ev["type"], json.dumps(ev)))
    return "".join(out).encode("utf-8")


def _response_events(k, item, model):
    resp_id = "resp_mock_%d" % k
    base = {"id": resp_id, "object": "response", "model": model,
            "created_at": 0, "output": []}
    evs = [
        {"type": "response.created",
         "response": dict(base, status="in_progress")},
        {"type": "response.output_item.added", "output_index": 0,
         "item": item},
    ]
    if item.get("type") == "message":
        text = item["content"][0]["text"]
        evs.append({"type": "response.output_text.delta",
                    "item_id": item["id"], "output_index": 0,
                    "content_index": 0, "delta": text})
    evs.append({"type": "response.output_item.done", "output_index": 0,
                "item": item})
    evs.append({"type": "response.completed",
                "response": dict(base, status="completed", output=[item],
                                 usage=_usage())})
    return evs


class Handler(mockhttp.Handler):
    server_version = "mock-openai/1"

    def _handle(self):
        body = self._body()
        path = self.path.split("?", 1)[0]
        _log_path(self.path)

        if (self.headers.get("Upgrade") or "").lower() == "websocket":
            _note("%s %s -> 426 (no websockets, use HTTP)" % (self.command, self.path))
            self._json(426, {"error": {"message": "websockets not supported by mock"}})
            return

        if self.command == "POST" and path.rstrip("/").endswith("/responses"):
            try:
                req = json.loads(body.decode("utf-8")) if body else {}
                if not isinstance(req, dict):
                    raise ValueError("not an object")
                parsed = True
            except Exception:
                req, parsed = {}, False
            k = _next_id()
            model = req.get("model") or "mock-model"
            # Normally decided by content; if the body cannot be read (e.g.
            # a compressed encoding the stdlib lacks), fall back to order:
            # the first /responses request gets the tool call.
            if (_has_tool_output(req.get("input")) if parsed else k > 1):
                item = _message_item(k, "done")
                what = "final message 'done'"
            else:
                item = _tool_call_item(req.get("tools"), k)
                what = "tool call %s" % (item.get("name") or item["type"])
            _note("%s %s -> %s" % (self.command, self.path, what))
            if req.get("stream", True) is False:
                resp = _response_events(k, item, model)[-1]["response"]
                self._json(200, resp)
                return
            self._send(200, "text/event-stream",
                       _sse(_response_events(k, item, model)))
            return

        if self.command == "POST" and path.rstrip("/").endswith("/responses/compact"):
            _note("%s %s -> empty compaction" % (self.command, self.path))
            self._json(200, {"output": []})
            return

        if path.rstrip("/").endswith("/models"):
            _note("%s %s -> empty model list" % (self.command, self.path))
            self._json(200, {"object": "list", "data": [], "models": []})
            return

        _note("%s %s -> generic 200 JSON" % (self.command, self.path))
        self._json(200, {"object": "mock", "ok": True})



def main(argv):
    return mockhttp.serve(argv, Handler, _state, _note)

if __name__ == "__main__":
    sys.exit(main(sys.argv))
