#!/usr/bin/env python3
"""Scripted, offline mock of the Anthropic Messages API for driving the real
Claude Code in tests.

Usage: python3 mock_anthropic.py PORTFILE LOGFILE [HOST]

Binds HOST (default 127.0.0.1) on an ephemeral port, writes the port number
to PORTFILE (atomically, via rename), and appends "METHOD PATH" of every
request it receives to LOGFILE, one line per request.  A one-line
description of each request and of the answer given goes to stderr.

Claude Code (verified with 2.1.197, ANTHROPIC_BASE_URL=http://127.0.0.1:PORT)
talks to:
  HEAD /                         a reachability probe before the first turn
  POST /v1/messages?beta=true    the turns, "stream": true, answered with
                                 Server-Sent Events (message_start,
                                 content_block_start/delta/stop,
                                 message_delta, message_stop)
  POST /v1/messages/count_tokens?beta=true   token counts (JSON)
and, without CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC, a few more (feature
flags, metrics): any other path gets a small JSON 200 so nothing hangs.

The scripted conversation, decided from the request body:
  1. a request that offers a Write or Bash tool and holds no tool_result
     yet -> one tool_use writing agent-wrote.txt (in Claude Code's working
     directory) with the single line "written by claude": the Bash tool
     (command printf ... > agent-wrote.txt, or MOCK_ANTHROPIC_COMMAND from
     the mock's environment), or with MOCK_ANTHROPIC_TOOL=Write
     in the mock's environment the Write tool (absolute path from the
     "Primary working directory" line of the system prompt);
  2. a request holding a tool_result -> the final text "done" (the note
     on stderr says "tool result: ok", or "error" and its text when the
     tool_result has is_error set);
  3. any other request (side queries Claude Code makes without tools,
     e.g. a session title) -> the text "ok".
Non-streaming requests ("stream" false or absent) get the same message as
one JSON object.  Standard library only.
"""

import mockhttp
import json
import os
import re
import sys
import threading

TARGET_FILE = "agent-wrote.txt"
TARGET_LINE = "written by claude"
SHELL_CMD = "printf 'written by claude\\n' > agent-wrote.txt"

_lock = threading.Lock()
_state = {"n": 0, "logfile": None}


def _log(line):
    with _lock:
        with open(_state["logfile"], "a", encoding="utf-8") as f:
            f.write(line + "\n")


def _note(msg):
    sys.stderr.write("mock_anthropic: %s\n" % msg)
    sys.stderr.flush()


def _next_id():
    with _lock:
        _state["n"] += 1
        return _state["n"]


def _tool_results(messages):
    for m in messages or []:
        c = m.get("content") if isinstance(m, dict) else None
        if isinstance(c, list):
            for b in c:
                if isinstance(b, dict) and b.get("type") == "tool_result":
                    yield b


def _system_text(req):
    s = req.get("system")
    if isinstance(s, str):
        return s
    if isinstance(s, list):
        return "\n".join(b.get("text", "") for b in s if isinstance(b, dict))
    return ""


def _cwd_of(req):
    """The working directory Claude Code states in its system prompt (or in
    the first user message's environment block)."""
    texts = [_system_text(req)]
    for m in req.get("messages") or []:
        c = m.get("content")
        if isinstance(c, str):
            texts.append(c)
        elif isinstance(c, list):
            texts += [b.get("text", "") for b in c if isinstance(b, dict)]
    for t in texts:
        m = re.search(r"(?:Primary )?[Ww]orking directory:\s*(\S+)", t)
        if m:
            return m.group(1)
    return None


def _tool_use(req, k):
    names = {t.get("name") for t in req.get("tools") or [] if isinstance(t, dict)}
    cwd = _cwd_of(req)
    want = os.environ.get("MOCK_ANTHROPIC_TOOL", "Bash")
    if "Write" in names and cwd and (want == "Write" or "Bash" not in names):
        return "Write", {"file_path": os.path.join(cwd, TARGET_FILE),
                         "content": TARGET_LINE + "\n"}
    return "Bash", {"command": os.environ.get("MOCK_ANTHROPIC_COMMAND", SHELL_CMD),
                    "description": "Write agent-wrote.txt"}


def _message(k, model, content, stop):
    return {"id": "msg_mock_%d" % k, "type": "message", "role": "assistant",
            "model": model, "content": content, "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 5,
                      "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0}}


def _sse(k, model, content, stop):
    evs = []
    start = _message(k, model, [], None)
    start["usage"]["output_tokens"] = 1
    evs.append(("message_start", {"type": "message_start", "message": start}))
    for i, b in enumerate(content):
        if b["type"] == "text":
            evs.append(("content_block_start", {
                "type": "content_block_start", "index": i,
                "content_block": {"type": "text", "text": ""}}))
            evs.append(("content_block_delta", {
                "type": "content_block_delta", "index": i,
                "delta": {"type": "text_delta", "text": b["text"]}}))
        else:
            evs.append(("content_block_start", {
                "type": "content_block_start", "index": i,
                "content_block": {"type": "tool_use", "id": b["id"],
                                  "name": b["name"], "input": {}}}))
            evs.append(("content_block_delta", {
                "type": "content_block_delta", "index": i,
                "delta": {"type": "input_json_delta",
                          "partial_json": json.dumps(b["input"])}}))
        evs.append(("content_block_stop",
                    {"type": "content_block_stop", "index": i}))
    evs.append(("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": stop, "stop_sequence": None},
        "usage": {"output_tokens": 5}}))
    evs.append(("message_stop", {"type": "message_stop"}))
    return "".join("event: %s\ndata: %s\n\n" % (n, json.dumps(d))
                   for n, d in evs).encode("utf-8")


class Handler(mockhttp.Handler):
    server_version = "mock-anthropic/1"
    extra_headers = {"request-id": "req_mock"}

    def _handle(self):
        body = self._body()
        path = self.path.split("?", 1)[0].rstrip("/")
        _log("%s %s" % (self.command, self.path))
        try:
            req = json.loads(body) if body else {}
            if not isinstance(req, dict):
                req = {}
        except ValueError:
            req = {}

        if self.command == "POST" and path.endswith("/messages/count_tokens"):
            _note("%s %s -> token count" % (self.command, self.path))
            self._json(200, {"input_tokens": 10})
            return

        if self.command == "POST" and path.endswith("/messages"):
            k = _next_id()
            model = req.get("model") or "claude-mock"
            names = {t.get("name") for t in req.get("tools") or []
                     if isinstance(t, dict)}
            results = list(_tool_results(req.get("messages")))
            if results:
                content, stop = [{"type": "text", "text": "done"}], "end_turn"
                err = [r for r in results if r.get("is_error")]
                what = "final text 'done' (tool result: %s)" % (
                    "error %s" % json.dumps(err[-1].get("content"))[:300]
                    if err else "ok")
            elif names & {"Write", "Bash"}:
                name, inp = _tool_use(req, k)
                content = [{"type": "tool_use", "id": "toolu_mock_%d" % k,
                            "name": name, "input": inp}]
                stop = "tool_use"
                what = "tool_use %s %s" % (name, json.dumps(inp))
            else:
                content, stop = [{"type": "text", "text": "ok"}], "end_turn"
                what = "side query, text 'ok'"
            _note("%s %s -> %s" % (self.command, self.path, what))
            if req.get("stream"):
                self._send(200, "text/event-stream", _sse(k, model, content, stop))
            else:
                self._json(200, _message(k, model, content, stop))
            return

        _note("%s %s -> generic 200 JSON" % (self.command, self.path))
        self._json(200, {})

    do_OPTIONS = _handle


def main(argv):
    return mockhttp.serve(argv, Handler, _state, _note)

if __name__ == "__main__":
    sys.exit(main(sys.argv))
