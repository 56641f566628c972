#!/usr/bin/env python3
"""Scripted, offline mock of the Gemini API (generativelanguage) for driving
the real Gemini CLI in tests.

Usage: python3 mock_gemini.py PORTFILE LOGFILE [HOST]

Binds HOST (default 127.0.0.1) on an ephemeral port, writes the port number
to PORTFILE (atomically, via rename), and appends "METHOD PATH" of every
request it receives to LOGFILE, one line per request.  A one-line
description of each request and of the answer given goes to stderr.

Gemini CLI (verified with 0.61.0, GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:PORT
and GEMINI_API_KEY set) talks to:
  POST /v1beta/models/MODEL:streamGenerateContent?alt=sse   the turns,
        answered with Server-Sent Events: "data: <GenerateContentResponse
        JSON>" blocks separated by a blank line, the last one carrying
        finishReason and usageMetadata;
  POST /v1beta/models/MODEL:generateContent    side queries (the model
        router, next-speaker and loop checks), one JSON response;
  POST /v1beta/models/MODEL:countTokens        {"totalTokens": N};
  GET  /v1beta/models                           the model list.
Any other path gets a small JSON 200 so nothing hangs.

The scripted conversation, decided from the request body ("contents"):
  1. a turn offering run_shell_command or write_file whose contents hold no
     functionResponse yet -> one functionCall writing agent-wrote.txt (in
     the CLI's working directory) with the single line "written by gemini":
     run_shell_command (printf ... > agent-wrote.txt) by default, or with
     MOCK_GEMINI_TOOL=write_file in the mock's environment write_file
     (absolute path from the working directory named in the request);
  2. a turn holding a functionResponse -> the final text "done" (the note
     on stderr says "tool result: ok", or "error" and its text when the
     response holds an "error");
  3. anything else (side queries without those tools) -> a short JSON text
     the CLI's classifiers accept ({"reasoning": ..., "model_choice":
     "flash", "complexity_score": 1, "next_speaker": "user", ...}); in
     0.61.0 the first request of a turn is such a routing query to a
     flash-lite model (generateContent), then the turn itself goes to the
     model it picked.
Standard library only.
"""

import mockhttp
import json
import os
import re
import sys
import threading

TARGET_FILE = "agent-wrote.txt"
TARGET_LINE = "written by gemini"
SHELL_CMD = "printf 'written by gemini\\n' > agent-wrote.txt"

_lock = threading.Lock()
_state = {"n": 0, "logfile": None}


def _log(line):
    with _lock:
        with open(_state["logfile"], "a", encoding="utf-8") as f:
            f.write(line + "\n")


def _note(msg):
    sys.stderr.write("mock_gemini: %s\n" % msg)
    sys.stderr.flush()


def _next_id():
    with _lock:
        _state["n"] += 1
        return _state["n"]


def _parts(req):
    for c in req.get("contents") or []:
        for p in (c.get("parts") or []) if isinstance(c, dict) else []:
            if isinstance(p, dict):
                yield p


def _function_responses(req):
    return [p["functionResponse"] for p in _parts(req)
            if isinstance(p.get("functionResponse"), dict)]


def _is_error(fr):
    """Gemini CLI reports a failed tool as {"response": {"error": ...}}."""
    r = fr.get("response")
    return isinstance(r, dict) and "error" in r


def _tool_names(req):
    names = set()
    for t in req.get("tools") or []:
        for fd in (t.get("functionDeclarations") or []) if isinstance(t, dict) else []:
            if isinstance(fd, dict) and fd.get("name"):
                names.add(fd["name"])
    return names


def _cwd_of(req):
    texts = [p.get("text", "") for p in _parts(req)]
    si = req.get("systemInstruction") or {}
    texts += [p.get("text", "") for p in si.get("parts") or [] if isinstance(p, dict)]
    # 0.61.0: "- **Workspace Directories:**\n  - /path" in the first
    # user message's environment block.
    for pat in (r"Workspace Directories:\W*-\s*(/[^\s`'\"]+)",
                r"working directory[^/]*(/[^\s`'\"]+)"):
        for t in texts:
            m = re.search(pat, t, re.I)
            if m:
                return m.group(1).rstrip(".:,")
    return None


def _function_call(req):
    names = _tool_names(req)
    want = os.environ.get("MOCK_GEMINI_TOOL", "run_shell_command")
    cwd = _cwd_of(req)
    if "write_file" in names and cwd and (want == "write_file" or
                                          "run_shell_command" not in names):
        return {"name": "write_file",
                "args": {"file_path": os.path.join(cwd, TARGET_FILE),
                         "content": TARGET_LINE + "\n"}}
    return {"name": "run_shell_command",
            "args": {"command": SHELL_CMD,
                     "description": "Write agent-wrote.txt"}}


def _usage():
    return {"promptTokenCount": 10, "candidatesTokenCount": 5,
            "totalTokenCount": 15}


def _response(parts, model):
    return {"candidates": [{"content": {"role": "model", "parts": parts},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": _usage(), "modelVersion": model,
            "responseId": "mock-%d" % _next_id()}


SIDE_ANSWER = json.dumps({
    "reasoning": "mock", "model_choice": "flash",
    "complexity_reasoning": "mock", "complexity_score": 1,
    "next_speaker": "user", "unproductive_state_analysis": "none",
    "unproductive_state_confidence": 0.0})


class Handler(mockhttp.Handler):
    server_version = "mock-gemini/1"

    def _handle(self):
        body = self._body()
        path = self.path.split("?", 1)[0]
        _log("%s %s" % (self.command, self.path))
        try:
            req = json.loads(body) if body else {}
            if not isinstance(req, dict):
                req = {}
        except ValueError:
            req = {}
        m = re.search(r"/models/([^/:]+):(\w+)$", path)
        model, verb = (m.group(1), m.group(2)) if m else ("gemini-mock", "")

        if verb == "countTokens":
            self._json(200, {"totalTokens": 10})
            return
        if verb in ("streamGenerateContent", "generateContent"):
            names = _tool_names(req)
            frs = _function_responses(req)
            if frs:
                parts = [{"text": "done"}]
                err = [f for f in frs if _is_error(f)]
                what = "final text 'done' (tool result: %s)" % (
                    "error %s" % json.dumps(err[-1]["response"]["error"])[:300]
                    if err else "ok")
            elif names & {"run_shell_command", "write_file"}:
                fc = _function_call(req)
                parts = [{"functionCall": fc}]
                what = "functionCall %s %s" % (fc["name"], json.dumps(fc["args"]))
            else:
                parts, what = [{"text": SIDE_ANSWER}], "side query, JSON text"
            _note("%s %s -> %s" % (self.command, self.path, what))
            resp = _response(parts, model)
            if verb == "streamGenerateContent":
                self._send(200, "text/event-stream",
                           ("data: %s\r\n\r\n" % json.dumps(resp)).encode("utf-8"))
            else:
                self._json(200, resp)
            return
        if path.rstrip("/").endswith("/models"):
            self._json(200, {"models": []})
            return
        _note("%s %s -> generic 200 JSON" % (self.command, self.path))
        self._json(200, {})

    do_OPTIONS = _handle


def main(argv):
    return mockhttp.serve(argv, Handler, _state, _note)

if __name__ == "__main__":
    sys.exit(main(sys.argv))
