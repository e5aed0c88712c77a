// PeerNet dashboard. Plain JavaScript, no framework: it reads /api/v1 with the session cookie, listens to the event
// stream for changes, and polls the node every two seconds for rates. Every text from the network goes into the page
// as textContent, never as HTML.
"use strict";

(() => {
  const POLL_MS = 2000;
  const CHART_SECONDS = 300;
  const $ = (id) => document.getElementById(id);

  let csrf = null;
  let torrents = [];
  const nodeHistory = []; // {t, down, up}
  let detailId = null;
  let detailHistory = [];
  let refreshTimer = null;
  let events = null; // the EventSource

  // ---- formatting ----------------------------------------------------------------------------------------------
  const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];
  function bytes(n) {
    let i = 0;
    while (Math.abs(n) >= 1024 && i < UNITS.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n.toFixed(0) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)) + " " + UNITS[i];
  }
  const rate = (n) => bytes(n) + "/s";
  function percent(p) {
    if (p >= 1) return "100%";
    return (Math.floor(p * 1000) / 10).toFixed(1) + "%";
  }
  function duration(s) {
    if (s === null || s === undefined || !isFinite(s)) return "–";
    s = Math.round(s);
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
    return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
  }
  const count = (n) => Number(n).toLocaleString("en");

  // ---- DOM -------------------------------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  function meter(progress, state, big) {
    const m = el("div", { class: "meter" + (big ? " big" : ""), role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" });
    m.append(el("div", { class: "fill" }), el("span"));
    setMeter(m, progress, state);
    return m;
  }

  function setMeter(m, progress, state) {
    m.querySelector(".fill").style.width = Math.min(100, progress * 100).toFixed(2) + "%";
    m.querySelector("span").textContent = percent(progress);
    m.setAttribute("aria-valuenow", (progress * 100).toFixed(1));
    m.classList.toggle("done", progress >= 1);
    m.classList.toggle("paused", state === "Paused" || state === "Stopped");
    m.classList.toggle("error", state === "Error");
  }

  function facts(dl, pairs) {
    dl.replaceChildren(...pairs.flatMap(([k, v, cls]) => [el("dt", { text: k }), el("dd", { text: String(v), class: cls })]));
  }

  // ---- API -------------------------------------------------------------------------------------------------------
  class SignedOut extends Error {}

  async function api(path, options = {}) {
    const method = options.method || "GET";
    const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    if (method !== "GET" && csrf) headers["X-PeerNet-CSRF"] = csrf;
    const response = await fetch("/api/v1" + path, { method, headers, body: options.body, credentials: "same-origin", cache: "no-store" });
    if (response.status === 401) {
      signedOut();
      throw new SignedOut("not signed in");
    }
    if (!response.ok) {
      let reason = response.status + " " + response.statusText;
      try {
        const problem = await response.json();
        reason = problem.title + (problem.detail ? ": " + problem.detail : "");
      } catch { /* not problem details */ }
      throw new Error(reason);
    }
    return response.status === 204 ? null : response.json();
  }

  function signedOut() {
    csrf = null;
    if (events) { events.close(); events = null; }
    $("live").textContent = "offline";
    $("live").classList.add("off");
    $("signed-out").hidden = false;
    for (const id of ["view-torrents", "view-torrent", "view-node", "view-storage"]) $(id).hidden = true;
    $("sign-out").hidden = true;
  }

  // ---- charts: hand-made SVG -------------------------------------------------------------------------------------
  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  }

  /** Draws download and upload rate over the last `seconds` (or the whole history when seconds is null). */
  function drawChart(container, history, seconds) {
    const W = 600, H = 180, L = 76, R = 8, T = 10, B = 22;
    const now = history.length ? history[history.length - 1].t : Date.now();
    const start = seconds ? now - seconds * 1000 : (history.length ? history[0].t : now);
    const span = Math.max(1000, now - start);
    const points = history.filter((p) => p.t >= start);
    const peak = Math.max(1024, ...points.map((p) => Math.max(p.down, p.up)));
    const scale = niceCeiling(peak);
    const x = (t) => L + ((t - start) / span) * (W - L - R);
    const y = (v) => T + (1 - v / scale) * (H - T - B);
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img", "aria-label": "download and upload rate" });
    for (let i = 0; i <= 4; i++) {
      const v = (scale * i) / 4;
      root.append(svg("line", { class: "axis", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      const label = svg("text", { class: "label", x: L - 6, y: y(v) + 4, "text-anchor": "end" });
      label.textContent = rate(v);
      root.append(label);
    }
    const ago = svg("text", { class: "label", x: L, y: H - 6 });
    ago.textContent = seconds ? `−${Math.round(seconds / 60)} min` : `−${duration(span / 1000)}`;
    const nowLabel = svg("text", { class: "label", x: W - R, y: H - 6, "text-anchor": "end" });
    nowLabel.textContent = "now";
    root.append(ago, nowLabel);
    if (points.length > 1) {
      const line = (key) => points.map((p) => `${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" ");
      const area = `${x(points[0].t).toFixed(1)},${y(0)} ${line("down")} ${x(points[points.length - 1].t).toFixed(1)},${y(0)}`;
      root.append(svg("polygon", { class: "down-area", points: area }));
      root.append(svg("polyline", { class: "down", points: line("down") }));
      root.append(svg("polyline", { class: "up", points: line("up") }));
    }
    const last = points[points.length - 1] || { down: 0, up: 0 };
    const legend = svg("text", { class: "label", x: L + 8, y: T + 12 });
    const down = svg("tspan", { class: "legend-down" });
    down.textContent = "■ down " + rate(last.down);
    const up = svg("tspan", { class: "legend-up", dx: "12" });
    up.textContent = "■ up " + rate(last.up);
    legend.append(down, up);
    root.append(legend);
    container.replaceChildren(root);
  }

  function niceCeiling(v) {
    const p = Math.pow(2, Math.ceil(Math.log2(v)));
    return p * 0.75 >= v ? p * 0.75 : p;
  }

  function remember(history, sample, keepSeconds) {
    history.push(sample);
    const cut = sample.t - keepSeconds * 1000;
    while (history.length && history[0].t < cut) history.shift();
  }

  // ---- torrents --------------------------------------------------------------------------------------------------
  const rows = new Map(); // id -> {row, cells}

  function renderTorrents() {
    const body = $("torrents").tBodies[0];
    const seen = new Set();
    for (const t of torrents) {
      seen.add(t.id);
      let r = rows.get(t.id);
      if (!r) {
        r = makeRow(t);
        rows.set(t.id, r);
      }
      updateRow(r, t);
      body.append(r.row); // keeps the API's order
    }
    for (const [id, r] of rows) {
      if (!seen.has(id)) { r.row.remove(); rows.delete(id); }
    }
    $("no-torrents").hidden = torrents.length > 0;
  }

  function makeRow(t) {
    const link = el("a", { href: "#/torrent/" + t.id });
    const pause = el("button", { type: "button", class: "pause", onclick: () => act(t.id, "pause") }, "Pause");
    const resume = el("button", { type: "button", class: "resume", onclick: () => act(t.id, "resume") }, "Resume");
    const remove = el("button", { type: "button", class: "remove", onclick: () => removeTorrent(t.id, false) }, "Remove");
    const cells = {
      name: el("td", {}, link), size: el("td", { class: "num" }), progress: el("td"), state: el("td"),
      down: el("td", { class: "num" }), up: el("td", { class: "num" }), peers: el("td", { class: "num" }), eta: el("td", { class: "num" }),
      actions: el("td", { class: "actions" }, pause, resume, remove),
    };
    cells.progress.append(meter(0, t.state));
    cells.state.append(el("span", { class: "state" }));
    const row = el("tr", { "data-id": t.id }, ...Object.values(cells));
    return { row, cells, link, pause, resume };
  }

  function updateRow(r, t) {
    r.link.textContent = t.name;
    r.link.title = t.id;
    r.cells.size.textContent = bytes(t.totalSize);
    setMeter(r.cells.progress.firstChild, t.progress, t.state);
    const state = r.cells.state.firstChild;
    state.className = "state " + t.state;
    state.textContent = stateText(t.state);
    state.title = t.error || "";
    r.cells.down.textContent = rate(t.downloadRate);
    r.cells.up.textContent = rate(t.uploadRate);
    r.cells.peers.textContent = t.peers + (t.seeds ? ` (${t.seeds} seeds)` : "");
    r.cells.eta.textContent = t.progress >= 1 ? "done" : duration(t.etaSeconds);
    const paused = t.state === "Paused" || t.state === "Stopped";
    r.pause.hidden = paused;
    r.resume.hidden = !paused;
  }

  const stateText = (s) => ({ FetchingMetadata: "Fetching metadata" })[s] || s;

  async function refreshTorrents() {
    torrents = await api("/torrents");
    renderTorrents();
  }

  function refreshSoon() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      refreshTorrents().catch(report);
      if (detailId) refreshDetail().catch(report);
    }, 300);
  }

  async function act(id, action) {
    try {
      await api(`/torrents/${encodeURIComponent(id)}/${action}`, { method: "POST" });
    } catch (e) {
      report(e);
    }
    refreshSoon();
  }

  async function removeTorrent(id, deleteData) {
    const t = torrents.find((x) => x.id === id);
    const what = t ? `“${t.name}”` : "this torrent";
    if (!window.confirm(`Remove ${what}?` + (deleteData ? " Its downloaded files are deleted too." : " Its downloaded files are kept."))) return;
    try {
      await api(`/torrents/${encodeURIComponent(id)}?deleteData=${deleteData}`, { method: "DELETE" });
      if (detailId === id) location.hash = "#/torrents";
    } catch (e) {
      report(e);
    }
    refreshSoon();
  }

  async function addTorrent(event) {
    event.preventDefault();
    const status = $("add-status");
    const file = $("add-file").files[0];
    const magnet = $("add-magnet").value.trim();
    if (!file && !magnet) {
      status.textContent = "choose a .torrent file or paste a magnet link";
      status.className = "status error";
      return;
    }
    const form = new FormData();
    if (file) form.append("torrent", file, file.name);
    else form.append("magnet", magnet);
    if ($("add-paused").checked) form.append("paused", "true");
    $("add-button").disabled = true;
    status.className = "status";
    status.textContent = "adding…";
    try {
      const t = await api("/torrents", { method: "POST", body: form });
      status.textContent = `added “${t.name}”`;
      $("add-form").reset();
    } catch (e) {
      status.textContent = e.message;
      status.className = "status error";
    } finally {
      $("add-button").disabled = false;
    }
    refreshSoon();
  }

  // ---- one torrent -----------------------------------------------------------------------------------------------
  async function refreshDetail() {
    const id = detailId;
    if (!id) return;
    const enc = encodeURIComponent(id);
    const [t, peers, files, trackers] = await Promise.all([
      api(`/torrents/${enc}`), api(`/torrents/${enc}/peers`), api(`/torrents/${enc}/files`), api(`/torrents/${enc}/trackers`),
    ]);
    if (id !== detailId) return;
    $("t-name").textContent = t.name;
    setMeter($("t-bar").parentElement, t.progress, t.state);
    const paused = t.state === "Paused" || t.state === "Stopped";
    $("t-pause").hidden = paused;
    $("t-resume").hidden = !paused;
    facts($("t-info"), [
      ["State", stateText(t.state) + (t.error ? ` (${t.error})` : ""), t.error ? "error-text" : null],
      ["Size", `${bytes(t.totalSize)} in ${count(t.pieceCount)} pieces (${count(t.piecesVerified)} verified)`],
      ["Downloaded / uploaded", `${bytes(t.downloaded)} / ${bytes(t.uploaded)}`],
      ["Rate", `↓ ${rate(t.downloadRate)}  ↑ ${rate(t.uploadRate)}`],
      ["Peers", `${t.peers} (${t.seeds} seeds)`],
      ["ETA", t.progress >= 1 ? "done" : duration(t.etaSeconds)],
      ["Info-hash v1", t.infoHashV1 || "–", "mono"],
      ["Info-hash v2", t.infoHashV2 || "–", "mono"],
      ["Saved in", t.savePath, "mono"],
    ]);
    remember(detailHistory, { t: Date.now(), down: t.downloadRate, up: t.uploadRate }, 3600);
    drawChart($("chart-torrent"), detailHistory, null);

    $("t-peers").tBodies[0].replaceChildren(...peers.map((p) => el("tr", {},
      el("td", { class: "mono", text: p.address }),
      el("td", { text: p.client || "–" }),
      el("td", { class: "mono", text: peerFlags(p.flags), title: p.flags }),
      el("td", {}, meter(p.progress, "")),
      el("td", { class: "num", text: rate(p.downloadRate) }),
      el("td", { class: "num", text: rate(p.uploadRate) }),
      el("td", { class: "num", text: duration(p.connectedSeconds) }))));
    if (!peers.length) $("t-peers").tBodies[0].append(el("tr", {}, el("td", { colspan: "7", class: "empty", text: "no peers connected" })));

    $("t-files").tBodies[0].replaceChildren(...files.map((f) => el("tr", {},
      el("td", { class: "mono", text: f.path }),
      el("td", { class: "num", text: bytes(f.length) }),
      el("td", {}, meter(f.progress, "")),
      el("td", { class: "num", text: f.priority === 0 ? "skip" : String(f.priority) }))));

    $("t-trackers").tBodies[0].replaceChildren(...trackers.map((k) => el("tr", {},
      el("td", { class: "mono", text: k.url }),
      el("td", { class: "num", text: String(k.tier) }),
      el("td", { text: k.state }),
      el("td", { class: "error-text", text: k.lastError || "" }))));
    if (!trackers.length) $("t-trackers").tBodies[0].append(el("tr", {}, el("td", { colspan: "4", class: "empty", text: "no trackers (DHT, local discovery and peers given at add time find peers)" })));
  }

  /** The engine's flags ("Outgoing, Seed, ...") as short letters, as other clients show them. */
  function peerFlags(flags) {
    const letters = { Incoming: "I", Outgoing: "O", Seed: "S", WeChoke: "c", WeAreInterested: "i", ChokesUs: "C", IsInterested: "d", Snubbed: "s", FastExtension: "F", V2: "2" };
    return String(flags).split(",").map((f) => letters[f.trim()] || "").join("") || "–";
  }

  // ---- node ------------------------------------------------------------------------------------------------------
  async function refreshNode() {
    const n = await api("/node");
    remember(nodeHistory, { t: Date.now(), down: n.downloadRate, up: n.uploadRate }, CHART_SECONDS);
    const summary = $("summary");
    summary.replaceChildren(
      el("span", { class: "down", text: "↓ " + rate(n.downloadRate) }), "  ",
      el("span", { class: "up", text: "↑ " + rate(n.uploadRate) }),
      `  ·  ${n.connections} connections  ·  ${n.torrents} torrents` + (n.dht ? `  ·  DHT ${count(n.dht.nodes)} nodes` : ""));
    if (!$("view-torrents").hidden) drawChart($("chart-torrents"), nodeHistory, CHART_SECONDS);
    if (!$("view-node").hidden) {
      drawChart($("chart-node"), nodeHistory, CHART_SECONDS);
      facts($("node-info"), [
        ["Version", n.version],
        ["Listening on", `${n.listenAddress} port ${n.listenPort}`],
        ["Connections", count(n.connections)],
        ["Torrents", count(n.torrents)],
        ["Rate", `↓ ${rate(n.downloadRate)}  ↑ ${rate(n.uploadRate)}`],
        ["Downloaded", bytes(n.downloaded) + " (since the daemon started)"],
        ["Uploaded", bytes(n.uploaded) + " (since the daemon started)"],
        ["Trackers", n.trackers ? "on" : "off"],
        ["Local discovery", n.localDiscovery ? "on" : "off"],
        ["State folder", n.stateFolder, "mono"],
        ["Download folder", n.downloadFolder, "mono"],
      ]);
      const d = n.dht;
      facts($("dht-info"), d ? [
        ["Node ID", d.nodeId, "mono"],
        ["Routing table", `${count(d.nodes)} nodes in ${count(d.buckets)} buckets`],
        ["Good / questionable / bad", `${count(d.goodNodes)} / ${count(d.questionableNodes)} / ${count(d.badNodes)}`],
        ["Waiting to replace", count(d.replacementNodes)],
        ["Lookups", `${count(d.lookups)} started, ${count(d.activeLookups)} running`],
        ["Queries", `${count(d.queriesSent)} sent, ${count(d.queriesReceived)} received, ${count(d.queriesDropped)} dropped`],
        ["Stored for others", `${count(d.storedPeers)} peers of ${count(d.storedInfoHashes)} torrents`],
        ["External address", d.externalAddress || "not known yet"],
      ] : [["DHT", "off"]]);
      const bar = $("dht-table");
      bar.hidden = !d || d.nodes === 0;
      if (d && d.nodes > 0) {
        bar.replaceChildren(...[["good", d.goodNodes], ["questionable", d.questionableNodes], ["bad", d.badNodes]].map(([cls, v]) => {
          const part = el("div", { class: cls, title: `${v} ${cls}` });
          part.style.width = ((100 * v) / d.nodes).toFixed(2) + "%";
          return part;
        }));
      }
      await refreshDoctor();
    }
  }

  // ---- libp2p ----------------------------------------------------------------------------------------------------
  async function refreshLibp2p() {
    const [self, peers, messages] = await Promise.all([api("/libp2p"), api("/libp2p/peers"), api("/libp2p/messages")]);
    facts($("libp2p-info"), [
      ["Peer ID", self.peerId, "mono"],
      ["Listen addresses", self.listenAddresses.join("\n") || "none", "mono"],
      ["Protocols", self.protocols.join(", "), "mono"],
    ]);
    $("libp2p-peers").tBodies[0].replaceChildren(...peers.map((p) => el("tr", {},
      el("td", { class: "mono", text: p.peerId, title: p.listenAddresses.join("\n") }),
      el("td", { class: "mono", text: p.address || "" }),
      el("td", { text: p.direction }),
      el("td", { text: p.agent || "" }),
      el("td", { class: "mono", text: p.protocols.join(", ") }))));
    $("no-libp2p-peers").hidden = peers.length > 0;
    $("dm-messages").replaceChildren(...messages.map((m) => el("li", {},
      el("time", { text: new Date(m.received).toLocaleTimeString("en-GB") }),
      el("span", { class: "type mono", text: m.from.slice(-8), title: m.from }),
      el("span", { text: m.text }))));
    $("no-dm-messages").hidden = messages.length > 0;
  }

  async function sendMessage(event) {
    event.preventDefault();
    const status = $("dm-status");
    status.textContent = "sending…";
    status.className = "status";
    try {
      const body = JSON.stringify({ to: $("dm-to").value.trim(), text: $("dm-text").value });
      const r = await api("/libp2p/messages", { method: "POST", body, headers: { "Content-Type": "application/json" } });
      status.textContent = `delivered (${r.milliseconds.toFixed(0)} ms)`;
      $("dm-text").value = "";
    } catch (e) {
      report(e);
      status.textContent = e.message;
      status.className = "status error-text";
    }
  }

  // ---- gossipsub topics ----------------------------------------------------------------------------------------
  async function refreshTopics() {
    const [topics, messages] = await Promise.all([api("/libp2p/topics"), api("/libp2p/topics/messages")]);
    $("topics").tBodies[0].replaceChildren(...topics.map((t) => el("tr", { "data-topic": t.topic },
      el("td", { class: "mono", text: t.topic }),
      el("td", { class: "num", text: count(t.meshPeers) }),
      el("td", { class: "num", text: count(t.peers) }),
      el("td", { class: "actions" }, el("button", { type: "button", class: "leave", onclick: () => leaveTopic(t.topic) }, "Leave")))));
    $("no-topics").hidden = topics.length > 0;
    if (!$("publish-topic").value && topics.length) $("publish-topic").value = topics[0].topic;
    $("topic-messages").replaceChildren(...messages.map((m) => el("li", {},
      el("span", { class: "type mono", text: m.topic }),
      el("span", { class: "mono", text: m.from.slice(-8), title: m.from }),
      el("span", { text: m.text }))));
    $("no-topic-messages").hidden = messages.length > 0;
  }

  async function topicAction(statusId, work) {
    const status = $(statusId);
    status.className = "status";
    try {
      status.textContent = await work();
    } catch (e) {
      report(e);
      status.textContent = e.message;
      status.className = "status error-text";
    }
    refreshTopics().catch(report);
  }

  function joinTopic(event) {
    event.preventDefault();
    const topic = $("topic-name").value.trim();
    return topicAction("topic-status", async () => {
      await api("/libp2p/topics", { method: "POST", body: JSON.stringify({ topic }), headers: { "Content-Type": "application/json" } });
      $("topic-name").value = "";
      if (!$("publish-topic").value) $("publish-topic").value = topic;
      return `joined ${topic}`;
    });
  }

  function leaveTopic(topic) {
    return topicAction("topic-status", async () => {
      await api(`/libp2p/topics?topic=${encodeURIComponent(topic)}`, { method: "DELETE" });
      return `left ${topic}`;
    });
  }

  function publish(event) {
    event.preventDefault();
    return topicAction("publish-status", async () => {
      const body = JSON.stringify({ topic: $("publish-topic").value.trim(), text: $("publish-text").value });
      const r = await api("/libp2p/topics/publish", { method: "POST", body, headers: { "Content-Type": "application/json" } });
      $("publish-text").value = "";
      return `sent to ${r.peers} ${r.peers === 1 ? "peer" : "peers"}`;
    });
  }

  /** The connectivity report (GET /node/doctor): mapping, external address, inbound, and one line per problem. */
  async function refreshDoctor() {
    const r = await api("/node/doctor");
    const m = r.portMapping;
    const when = (t) => (t ? new Date(t).toLocaleTimeString() : "never");
    const inbound = (i) => (i.last ? `${count(i.ipv4 + i.ipv6)}, last ${when(i.last)}, from the internet ${when(i.lastFromInternet)}` : "none yet");
    facts($("doctor-info"), [
      ["Port mapping", !m.enabled ? "off" : m.protocol === "None" ? "none" + (m.lastError ? ` (${m.lastError})` : "") : `${m.protocol === "NatPmp" ? "NAT-PMP" : "UPnP"}: ${m.externalAddress} TCP ${m.externalTcpPort}, UDP ${m.externalUdpPort}`],
      ["External address", r.externalAddresses.length ? r.externalAddresses.map((a) => `${a.address} (${a.source})`).join(", ") : "not known yet"],
      ["Inbound TCP", inbound(r.inboundTcp)],
      ["Inbound uTP", r.utpIncoming ? inbound(r.inboundUtp) : "off"],
      ["libp2p", `${count(r.libp2pConnectedPeers)} peers connected`],
    ]);
    const problems = $("doctor-problems");
    problems.replaceChildren(...(r.problems.length
      ? r.problems.map((p) => el("li", { class: "severity-" + p.severity.toLowerCase(), text: p.message }))
      : [el("li", { class: "empty", text: "No problem found." })]));
  }

  // ---- storage -------------------------------------------------------------------------------------------------
  async function refreshStorage() {
    const [summary, files] = await Promise.all([api("/storage"), api("/storage/files")]);
    const m = $("storage-meter");
    const quota = summary.quotaBytes;
    m.querySelector(".fill").style.width = (quota > 0 ? Math.min(100, (summary.lentBytes / quota) * 100) : 0).toFixed(2) + "%";
    m.querySelector("span").textContent = quota > 0 ? `${bytes(summary.lentBytes)} of ${bytes(quota)}` : "not lending (set Storage:Share)";
    m.setAttribute("aria-valuenow", quota > 0 ? ((summary.lentBytes / quota) * 100).toFixed(1) : "0");
    m.classList.toggle("paused", quota === 0);
    facts($("storage-info"), [
      ["Lent", quota > 0 ? `${bytes(summary.lentBytes)} used of ${bytes(quota)}` : "nothing"],
      ["Shares held", count(summary.sharesHeld)],
      ["Files stored", count(summary.files)],
      ["Largest upload", bytes(summary.maxUploadBytes)],
      ["Providers not used", summary.badProviders.length ? summary.badProviders.join(", ") : "none", summary.badProviders.length ? "mono" : null],
    ]);
    $("storage-files").tBodies[0].replaceChildren(...files.map(storageRow));
    $("no-storage-files").hidden = files.length > 0;
  }

  function storageRow(f) {
    const health = meter(f.healthyShares / f.n, null);
    health.querySelector("span").textContent = `${f.healthyShares}/${f.n} (need ${f.k})`;
    health.classList.toggle("done", f.healthyShares >= f.n);
    health.classList.toggle("degraded", f.healthyShares < f.n && f.healthyShares >= f.k);
    health.classList.toggle("error", f.healthyShares < f.k);
    return el("tr", { "data-capability": f.capability },
      el("td", { text: f.name || "(unnamed)" }),
      el("td", { class: "num", text: bytes(f.size) }),
      el("td", {}, health),
      el("td", { class: "num", text: count(f.providers) }),
      el("td", { text: new Date(f.storedAt).toLocaleString("en-GB") }),
      el("td", {}, el("input", { type: "text", readonly: true, class: "capability", value: f.capability, "aria-label": "read capability", onfocus: (e) => e.target.select() })),
      el("td", { class: "actions" },
        el("button", { type: "button", class: "check", onclick: () => checkFile(f, false) }, "Check"),
        el("button", { type: "button", class: "repair", onclick: () => checkFile(f, true) }, "Repair"),
        el("button", { type: "button", class: "download", onclick: () => downloadFile(f) }, "Download")));
  }

  async function checkFile(f, repair) {
    const status = $("storage-check-status");
    status.className = "status";
    status.textContent = `${repair ? "repairing" : "checking"} ${f.name || "the file"}…`;
    try {
      const body = JSON.stringify({ capability: f.capability, repair });
      const h = await api("/storage/check", { method: "POST", body, headers: { "Content-Type": "application/json" } });
      status.textContent = `${f.name || "file"}: ${h.healthyShares.length}/${h.n} shares healthy (need ${h.k})`
        + (h.repairedShares.length ? `, ${h.repairedShares.length} repaired` : "")
        + (h.failedProviders.length ? `, ${h.failedProviders.length} providers failed` : "");
      status.className = "status" + (h.recoverable ? "" : " error");
    } catch (e) {
      report(e);
      status.textContent = e.message;
      status.className = "status error";
    }
    refreshStorage().catch(report);
  }

  /** Downloads by POST (the capability stays out of URLs), then hands the bytes to the browser as a file. */
  async function downloadFile(f) {
    const status = $("storage-check-status");
    status.className = "status";
    status.textContent = `fetching ${f.name || "the file"}…`;
    try {
      const response = await fetch("/api/v1/storage/get", {
        method: "POST", credentials: "same-origin", cache: "no-store",
        headers: { "Content-Type": "application/json", "X-PeerNet-CSRF": csrf || "" },
        body: JSON.stringify({ capability: f.capability }),
      });
      if (!response.ok) {
        let reason = response.status + " " + response.statusText;
        try { const p = await response.json(); reason = p.title + (p.detail ? ": " + p.detail : ""); } catch { /* not problem details */ }
        throw new Error(reason);
      }
      const url = URL.createObjectURL(await response.blob());
      const a = el("a", { href: url, download: f.name || "file" });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      status.textContent = `${f.name || "file"}: ${bytes(f.size)} fetched, every block verified`;
    } catch (e) {
      report(e);
      status.textContent = e.message;
      status.className = "status error";
    }
  }

  async function storeFile(event) {
    event.preventDefault();
    const status = $("store-status");
    const file = $("store-file").files[0];
    if (!file) {
      status.textContent = "choose a file";
      status.className = "status error";
      return;
    }
    const form = new FormData();
    form.append("file", file, file.name);
    $("store-button").disabled = true;
    status.className = "status";
    status.textContent = "encrypting and placing shares…";
    try {
      const shares = encodeURIComponent($("store-shares").value.trim() || "3-of-10");
      const f = await api(`/storage/files?shares=${shares}`, { method: "POST", body: form });
      status.textContent = `stored “${f.name || file.name}”: ${f.healthyShares}/${f.n} shares placed`;
      $("store-file").value = "";
    } catch (e) {
      report(e);
      status.textContent = e.message;
      status.className = "status error";
    } finally {
      $("store-button").disabled = false;
    }
    refreshStorage().catch(report);
  }

  // ---- events ----------------------------------------------------------------------------------------------------
  const LIBP2P = new Set(["libp2pPeerConnected", "libp2pPeerDisconnected", "directMessageReceived", "pubsubMessageReceived"]);
  const REFRESHING = new Set(["torrentAdded", "torrentRemoved", "metadataReceived", "pieceVerified", "torrentCompleted", "torrentStateChanged", "peerConnected", "peerDisconnected", "storageError"]);

  function listen() {
    const source = new EventSource("/api/v1/events", { withCredentials: true });
    events = source;
    const live = $("live");
    source.onopen = () => { live.textContent = "live"; live.classList.remove("off"); };
    source.onerror = () => {
      live.textContent = "reconnecting";
      live.classList.add("off");
      api("/session").catch(report); // signed out (a restarted daemon forgets its sessions)? then say so, and stop
    };
    const types = ["connected", ...REFRESHING, ...LIBP2P, "hashFailed", "peerBanned", "trackerFailed", "eventsDropped"];
    for (const type of types) {
      source.addEventListener(type, (message) => {
        let e;
        try { e = JSON.parse(message.data); } catch { return; }
        if (REFRESHING.has(type) || type === "eventsDropped") refreshSoon();
        if (LIBP2P.has(type) && !$("view-node").hidden) { refreshLibp2p().catch(report); refreshTopics().catch(report); }
        if (type !== "pieceVerified" && type !== "connected") logEvent(e);
      });
    }
  }

  function logEvent(e) {
    const t = e.torrent && torrents.find((x) => x.id === e.torrent);
    const detail = [t ? t.name : e.torrent ? e.torrent.slice(0, 12) : null, e.topic, e.state, e.peer, e.address, e.url, e.reason, e.agent, e.text].filter(Boolean).join(" · ");
    const list = $("events");
    list.prepend(el("li", {}, el("time", { text: new Date(e.time).toLocaleTimeString("en-GB") }), el("span", { class: "type", text: e.type }), el("span", { text: detail })));
    while (list.children.length > 100) list.lastChild.remove();
  }

  // ---- navigation ------------------------------------------------------------------------------------------------
  function route() {
    if (csrf === null) return;
    const hash = location.hash || "#/torrents";
    const match = /^#\/torrent\/([0-9a-fA-F]+)$/.exec(hash);
    const view = match ? "torrent" : hash === "#/node" ? "node" : hash === "#/storage" ? "storage" : "torrents";
    $("view-torrents").hidden = view !== "torrents";
    $("view-torrent").hidden = view !== "torrent";
    $("view-node").hidden = view !== "node";
    $("view-storage").hidden = view !== "storage";
    $("nav-torrents").classList.toggle("current", view === "torrents" || view === "torrent");
    $("nav-node").classList.toggle("current", view === "node");
    $("nav-storage").classList.toggle("current", view === "storage");
    const id = match ? match[1].toLowerCase() : null;
    if (id !== detailId) {
      detailId = id;
      detailHistory = [];
      $("t-name").textContent = "";
      $("t-delete-data").checked = false;
      for (const t of ["t-peers", "t-files", "t-trackers"]) $(t).tBodies[0].replaceChildren();
    }
    refreshNode().catch(report);
    if (view === "node") { refreshLibp2p().catch(report); refreshTopics().catch(report); }
    if (view === "storage") refreshStorage().catch(report);
    if (detailId) refreshDetail().catch(report);
  }

  function report(e) {
    if (!(e instanceof SignedOut)) console.warn(e);
  }

  async function start() {
    $("add-form").addEventListener("submit", addTorrent);
    $("dm-form").addEventListener("submit", sendMessage);
    $("store-form").addEventListener("submit", storeFile);
    $("topic-join-form").addEventListener("submit", joinTopic);
    $("publish-form").addEventListener("submit", publish);
    $("t-pause").addEventListener("click", () => act(detailId, "pause"));
    $("t-resume").addEventListener("click", () => act(detailId, "resume"));
    $("t-recheck").addEventListener("click", () => act(detailId, "recheck"));
    $("t-remove").addEventListener("click", () => removeTorrent(detailId, $("t-delete-data").checked));
    $("sign-out").addEventListener("click", async () => {
      try { await api("/session", { method: "DELETE" }); } catch (e) { report(e); }
      signedOut();
    });
    try {
      const session = await api("/session");
      csrf = session.csrf || "";
    } catch (e) {
      report(e);
      return;
    }
    window.addEventListener("hashchange", route);
    route();
    await refreshTorrents().catch(report);
    listen();
    setInterval(() => {
      if (csrf === null) return;
      refreshNode().catch(report);
      refreshTorrents().catch(report);
      if (!$("view-node").hidden) { refreshLibp2p().catch(report); refreshTopics().catch(report); }
      if (!$("view-storage").hidden) refreshStorage().catch(report);
      if (detailId) refreshDetail().catch(report);
    }, POLL_MS);
  }

  start();
})();
