// SPDX-License-Identifier: GPL-2.0-only
// The page of `agentwall web`. Every string from an event (argv, file
// names, targets: the agent's choice) reaches the DOM as text through
// el(): textContent, never innerHTML.
"use strict";

const params = new URLSearchParams(location.hash.slice(1));
const token = params.get("token") || "";
let selected = params.get("s") || "";
let lastSessions = null;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

async function api(path) {
  const r = await fetch(path, { headers: { "X-Agentwall-Token": token },
                                cache: "no-store" });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function ms(t) { return t ? Date.parse(t) : NaN; }
function hhmmss(t) { return t ? t.slice(11, 19) : ""; }
function argvText(p) {
  if (!p) return "";
  if (Array.isArray(p.argv) && p.argv.length) return p.argv.join(" ");
  return p.exe || "";
}

function setStatus(text) { document.getElementById("status").textContent = text; }

function setHash() {
  const h = new URLSearchParams();
  h.set("token", token);
  if (selected) h.set("s", selected);
  history.replaceState(null, "", "#" + h.toString());
}

// ---- the timeline ------------------------------------------------------

function sessionsModel(d) {
  const byId = new Map();
  const started = (id, time, agent, root) => {
    let s = byId.get(id);
    if (!s) {
      s = { id, start: time, end: null, agent: null, root: null, denies: [], live: false };
      byId.set(id, s);
    }
    if (ms(time) < ms(s.start)) s.start = time;
    s.agent = s.agent || agent;
    s.root = s.root || root;
    return s;
  };
  for (const e of d.sandboxes) {
    const s = started(e.session, e.time, e.agent ? e.agent.id : null, null);
    s.policy = e.policy;
  }
  for (const e of d.starts) started(e.session, e.time, e.agent ? e.agent.id : null, e.process);
  for (const e of d.ends) {
    const s = byId.get(e.session);
    if (s) s.end = e.time;
  }
  for (const e of d.denies) {
    const s = byId.get(e.session);
    if (s) {
      s.denies.push(e.time);
      // A session run by `agentwall run` is classified by what runs in
      // it: its events name the agent.
      s.agent = s.agent || (e.agent ? e.agent.id : null);
    }
  }
  for (const l of d.live || []) {
    const s = byId.get(l.session) ||
      started(l.session, l.started, l.agent ? l.agent.id : null, (l.processes || [])[0]);
    s.live = true;
    s.end = null;
    s.policy = s.policy || l.policy;
    if (!s.root && l.processes && l.processes.length) s.root = l.processes[0];
  }
  for (const s of byId.values()) s.agent = s.agent || "unclassified";
  return [...byId.values()].sort((a, b) => ms(b.start) - ms(a.start));
}

function drawTimeline(d) {
  const list = sessionsModel(d);
  const now = ms(d.now);
  const t0 = list.length ? Math.min(...list.map(s => ms(s.start))) : now - 3600e3;
  const span = Math.max(now - t0, 1000);
  const pct = t => Math.max(0, Math.min(100, (ms(t) - t0) / span * 100));
  const axis = document.getElementById("axis");
  axis.replaceChildren(el("span", null, new Date(t0).toISOString().slice(0, 19) + "Z"),
                       el("span", null, "now " + hhmmss(d.now)));
  const ol = document.getElementById("sessions");
  const items = [];
  for (const s of list) {
    const li = el("li");
    li.dataset.session = s.id;
    if (s.id === selected) li.classList.add("selected");
    const row = el("div", "srow");
    const left = el("span");
    left.append(el("span", "agent", s.agent), " ", el("span", "sid", s.id));
    row.append(left);
    const right = el("span");
    if (s.denies.length) right.append(el("span", "badge", s.denies.length + " denied"));
    if (s.live) right.append(" ", el("span", "livepid", "live"));
    row.append(right);
    const track = el("div", "track");
    const bar = el("div", s.live ? "span live" : "span");
    const a = pct(s.start), b = s.end ? pct(s.end) : 100;
    bar.style.left = a + "%";
    bar.style.width = Math.max(b - a, 0.5) + "%";
    track.append(bar);
    for (const t of s.denies) {
      const tick = el("div", "tick");
      tick.style.left = pct(t) + "%";
      track.append(tick);
    }
    li.append(row, track, el("div", "sid cmd", argvText(s.root)));
    li.addEventListener("click", () => {
      selected = s.id;
      diffCache.delete(s.id);
      shown = "";
      setHash();
      refresh();
    });
    items.push(li);
  }
  ol.replaceChildren(...items);
  if (!list.length) ol.append(el("li", "hint", "No sessions recorded yet."));
  return list;
}

// ---- one session -------------------------------------------------------

function processTree(events, live) {
  const procs = new Map();
  const get = (pid, ppid) => {
    let p = procs.get(pid);
    if (!p) { p = { pid, ppid, argv: "", exited: false, live: false, kids: [] }; procs.set(pid, p); }
    return p;
  };
  for (const e of events) {
    const p = e.process;
    if (!p || typeof p.pid !== "number") continue;
    const n = get(p.pid, p.ppid);
    if (e.action === "exec" || e.action === "session-start" || e.action === "fork" || !n.argv) {
      n.argv = argvText(p) || n.argv;
      if (e.action !== "fork" || !n.ppid) n.ppid = p.ppid;
    }
    if (e.action === "exit") n.exited = true;
  }
  if (live) {
    for (const p of live.processes || []) {
      const n = get(p.pid, p.ppid);
      n.live = p.live;
      n.exited = !p.live;
      n.argv = argvText(p) || n.argv;
    }
  }
  const roots = [];
  for (const p of procs.values()) {
    const up = procs.get(p.ppid);
    if (up && up !== p) up.kids.push(p); else roots.push(p);
  }
  const ul = el("ul", "tree");
  const add = (parent, p, depth) => {
    const li = el("li", p.exited ? "exited" : null);
    li.append(el("span", p.live ? "livepid" : null, String(p.pid)), " ", argvText({ argv: [p.argv] }));
    if (p.exited) li.append(" (exited)");
    parent.append(li);
    if (p.kids.length && depth < 64) {
      const sub = el("ul");
      for (const k of p.kids.sort((a, b) => a.pid - b.pid)) add(sub, k, depth + 1);
      li.append(sub);
    }
  };
  for (const r of roots.sort((a, b) => a.pid - b.pid)) add(ul, r, 0);
  return ul;
}

function eventsTable(events) {
  const t = el("table", "events");
  const head = el("tr");
  for (const h of ["time", "pid", "action", "target", "decision", "rule"]) head.append(el("th", null, h));
  t.append(head);
  for (const e of events.slice().reverse()) {
    const tr = el("tr", e.decision && e.decision !== "allow" ? e.decision : null);
    tr.append(el("td", null, hhmmss(e.time)),
              el("td", null, e.process ? e.process.pid : ""),
              el("td", null, e.action),
              el("td", null, e.target === null || e.target === undefined ? "" : e.target),
              el("td", null, e.decision || ""),
              el("td", null, e.rule || ""));
    t.append(tr);
  }
  return t;
}

function diffView(d) {
  const box = el("div");
  if (!d.changes || !d.changes.length) { box.append(el("p", "hint", "No changes kept.")); return box; }
  const pre = el("pre", "diff");
  for (const c of d.changes) {
    for (const line of (c.diff || "").split("\n")) {
      const cls = line.startsWith("+") && !line.startsWith("+++") ? "add"
                : line.startsWith("-") && !line.startsWith("---") ? "del"
                : line.startsWith("@@") ? "hunk" : null;
      pre.append(el("span", cls, line + "\n"));
    }
  }
  box.append(pre);
  return box;
}

// An ended session's diff, asked once (again when the session is clicked).
const diffCache = new Map();
let shown = "";

async function drawSession(s) {
  const detail = document.getElementById("detail");
  const d = await api("/api/session?id=" + encodeURIComponent(s.id));
  // Redrawn only when something changed (a selection, scrolling, stay).
  const key = JSON.stringify([s.id, s.live, s.end, d.events.length,
                              d.events.length ? d.events[d.events.length - 1].time : "",
                              (d.live || []).find(l => l.session === s.id) || null]);
  if (key === shown) return;
  const live = (d.live || []).find(l => l.session === s.id);
  let policy = (live && live.policy) || s.policy;
  for (const e of d.events)
    if (!policy && e.action === "sandbox" && e.rule && e.rule.startsWith("run/")) policy = e.rule.slice(4);
  const denies = d.events.filter(e => e.decision === "deny");
  if (s.agent === "unclassified") {
    const named = d.events.find(e => e.agent && e.agent.id);
    if (named) s.agent = named.agent.id;
  }
  const parts = [el("h2", null, "Session " + s.id)];
  const facts = el("dl", "facts");
  const fact = (k, v) => facts.append(el("dt", null, k), el("dd", null, v));
  fact("agent", s.agent);
  fact("policy", policy || "-");
  fact("started", s.start);
  fact("ended", s.live ? "running" : (s.end || "-"));
  const first = d.events.find(e => e.process && e.process.argv);
  fact("command", argvText(s.root || (first && first.process)));
  fact("events", d.events.length + (denies.length ? ", " + denies.length + " denied" : ""));
  parts.push(facts);
  if (denies.length)
    parts.push(el("h3", null, "Denied (newest first)"), eventsTable(denies.slice(-20)));
  parts.push(el("h3", null, "Processes"), processTree(d.events, live));
  parts.push(el("h3", null, "Events (newest first)"), eventsTable(d.events));
  const diffBox = el("div");
  parts.push(el("h3", null, "Changes"), diffBox);
  if (s.live) diffBox.append(el("p", "hint", "Shown when the session has ended."));
  else {
    if (!diffCache.has(s.id)) {
      try { diffCache.set(s.id, await api("/api/diff?id=" + encodeURIComponent(s.id))); }
      catch (err) { diffCache.set(s.id, { error: err.message }); }
    }
    const diff = diffCache.get(s.id);
    diffBox.append(diff.error ? el("p", "hint", diff.error) : diffView(diff));
  }
  detail.replaceChildren(...parts);
  shown = key;
}

let busy = false;
async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const d = await api("/api/sessions");
    lastSessions = drawTimeline(d);
    if (!selected && lastSessions.length) { selected = lastSessions[0].id; setHash(); drawTimeline(d); }
    const s = lastSessions.find(x => x.id === selected);
    if (s) await drawSession(s);
    setStatus(lastSessions.length + " sessions, updated " + hhmmss(d.now) + " UTC");
  } catch (err) {
    setStatus("error: " + err.message);
  } finally {
    busy = false;
  }
}

refresh();
setInterval(refresh, 2000);
