"""The admin page at `/`: workflows with versions and problems, recent runs, one run's step
states, and a live notifications feed over the WebSocket. Plain HTML and JavaScript, no build.

Every value is put in the page with `textContent`, never as HTML, so a message cannot inject
markup. With tokens on, the page asks for one and keeps it in the tab's sessionStorage.
"""

from __future__ import annotations

__all__ = ["ADMIN_HTML"]

ADMIN_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2329}
header{background:#1d2329;color:#fff;padding:10px 16px;display:flex;gap:16px;align-items:center}
main{display:grid;grid-template-columns:1fr 1fr;gap:12px;padding:12px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px;overflow:auto}
h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:3px 6px;
border-bottom:1px solid #eef0f2;vertical-align:top}
.succeeded,.success{color:#1a7f37}.failed,.error{color:#cf222e}.running,.retrying{color:#9a6700}
.cancelled,.warning{color:#8250df}.skipped{color:#6e7781}.problem{color:#cf222e;font-size:12px}
#feed li{font-family:ui-monospace,monospace;font-size:12px;margin:2px 0}
tr.run{cursor:pointer}tr.run:hover{background:#f0f3f6}
</style></head><body>
<header><strong>Switchboard</strong><span id="status">connecting…</span></header>
<main>
<section><h2>Workflows</h2><table id="workflows"><tr><th>name</th><th>trigger</th>
<th>version</th><th>problems</th></tr></table></section>
<section><h2>Notifications (live)</h2><ul id="feed"></ul></section>
<section><h2>Recent runs</h2><table id="runs"><tr><th>run</th><th>workflow</th><th>status</th>
<th>duration</th></tr></table></section>
<section><h2>Run <span id="run-id"></span></h2><table id="steps"></table></section>
</main>
<script>
"use strict";
const token = () => sessionStorage.getItem("switchboard-token") || "";
async function api(path) {
  const headers = token() ? {Authorization: "Bearer " + token()} : {};
  const r = await fetch(path, {headers});
  if (r.status === 401) {
    const t = prompt("Bearer token for this server");
    if (t) { sessionStorage.setItem("switchboard-token", t); return api(path); }
  }
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}
function cell(row, text, cls) {
  const td = row.insertCell(); td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls; return td;
}
function clear(table) { while (table.rows.length > 1) table.deleteRow(1); }
async function loadWorkflows() {
  const t = document.getElementById("workflows"); clear(t);
  for (const w of (await api("/workflows")).workflows) {
    const row = t.insertRow(); cell(row, w.name); cell(row, w.trigger.join(", "));
    cell(row, w.version + (w.stale ? " (stale)" : ""));
    cell(row, w.problems.map(p => p.text).join("\\n"), "problem");
  }
}
// refreshes overlap (one per burst of runs starting and ending): only the latest one's answer
// is shown, and the table is replaced in one go once it is in (no doubled or stale rows)
let runsAsked = 0, runAsked = 0, shown = null, reshow = null;
async function loadRuns() {
  const asked = ++runsAsked;
  const runs = (await api("/runs?limit=25")).runs;
  if (asked !== runsAsked) return;
  const t = document.getElementById("runs"); clear(t);
  for (const r of runs) {
    const row = t.insertRow(); row.className = "run"; row.dataset.run = r.run;
    cell(row, r.run.slice(0, 12)); cell(row, r.workflow); cell(row, r.status, r.status);
    cell(row, r.duration_ms == null ? "" : r.duration_ms + " ms");
    row.onclick = () => showRun(r.run);
  }
}
async function showRun(id) {
  const asked = ++runAsked; shown = id;
  const run = await api("/runs/" + encodeURIComponent(id));
  if (asked !== runAsked) return;
  document.getElementById("run-id").textContent = id;
  const t = document.getElementById("steps"); t.innerHTML = "";
  const steps = (run.result && run.result.steps) || run.steps || {};
  for (const [sid, s] of Object.entries(steps)) {
    const row = t.insertRow(); row.dataset.step = sid; cell(row, sid);
    cell(row, s.status, s.status); cell(row, s.attempts ? s.attempts + " attempt(s)" : "");
    cell(row, s.error ? s.error.type + ": " + s.error.message : "");
  }
}
let last = 0, refresh = null;
function connect() {
  const proto = location.protocol === "https:" ? "wss://" : "ws://";
  // live from now at first; after a reconnect, resume after the last event seen
  const q = new URLSearchParams(last ? {since: String(last)} : {});
  if (token()) q.set("token", token());
  const ws = new WebSocket(proto + location.host + "/ws?" + q);
  ws.onopen = () => { document.getElementById("status").textContent = "live"; };
  ws.onmessage = (m) => {
    const e = JSON.parse(m.data); last = Math.max(last, e.seq);
    if (e.event === "Notification") {
      const li = document.createElement("li"); li.className = e.level;
      li.textContent = new Date(e.time * 1000).toLocaleTimeString() + " [" + e.level + "] " +
        e.message;
      const feed = document.getElementById("feed"); feed.prepend(li);
      while (feed.children.length > 200) feed.lastChild.remove();
    }
    if (e.event === "RunStarted" || e.event === "RunFinished") {
      clearTimeout(refresh); refresh = setTimeout(loadRuns, 100);
    }
    if (shown && e.run_id === shown) {  // the run shown was still going: its steps move on
      clearTimeout(reshow); reshow = setTimeout(() => showRun(shown), 100);
    }
  };
  ws.onclose = () => {
    document.getElementById("status").textContent = "reconnecting…";
    setTimeout(connect, 1000);
  };
}
(async () => {
  await Promise.all([loadWorkflows(), loadRuns()]);
  connect();
})();
</script></body></html>
"""
