#!/usr/bin/python3
"""Daemons hosting many small torrents (run by bench/daemon.sh, in a network namespace that has only loopback).

For each daemon in turn (`peernet daemon`, and Debian's transmission-daemon), on the same COUNT trackerless
torrents whose data is already on disk, DHT and local discovery off in both:
  1. a fresh daemon; every torrent added through its API, one request at a time, with the data's folder as the
     download folder; "added" is the time until the last add is answered, "seeding" until the API shows every
     torrent complete and seeding (each daemon checks the data it finds);
  2. a graceful stop (SIGTERM): the time until the process exits;
  3. a restart on the same state: "start-up" is the time from spawning the process until its API shows every torrent
     seeding; then a settling pause and an idle window: CPU time (user + system) as a share of one core, RSS at its
     end and the peak;
  4. the status of every torrent through the API, as a client polling it would ask, REPEAT times: the median and the
     95th percentile of the latency, and the answer's size. Both daemons are asked with Transmission's RPC,
     `torrent-get` of the fields transmission-remote -l asks for (PeerNet answers it at /transmission/rpc; with no
     such endpoint, its REST list GET /api/v1/torrents is asked instead and the table says so);
  5. PeerNet only: API under load, `wrk` with CLIENTS connections polling one torrent's status and the node's status
     for SECONDS: requests per second, errors, p50/p99 latency.
"""
import argparse
import base64
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idle import free_port, make_torrents, proc_stat  # noqa: E402

# What transmission-remote -l asks torrent-get for (Transmission 3.00's remote.c, details_keys for -l).
LIST_FIELDS = ["error", "errorString", "eta", "id", "isFinished", "leftUntilDone", "name", "peersGettingFromUs",
               "peersSendingToUs", "rateDownload", "rateUpload", "sizeWhenDone", "status", "uploadRatio"]
TR_SEEDING = 6


class Api:
    """One keep-alive HTTP connection to a daemon: Transmission RPC (with its session-id handshake) or PeerNet's REST."""

    def __init__(self, port, token=None, rpc_path="/transmission/rpc", basic_user="bench"):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.session = ""
        self.rpc_path = rpc_path
        self.headers = {}
        if token:
            self.headers["Authorization"] = "Bearer " + token
            self.basic = "Basic " + base64.b64encode(("%s:%s" % (basic_user, token)).encode()).decode()
        else:
            self.basic = None

    def request(self, method, path, body=None, headers=None):
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers={**self.headers, **(headers or {})})
                r = self.conn.getresponse()
                return r.status, dict(r.getheaders()), r.read()
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt:
                    raise
        raise AssertionError

    def rpc(self, method, arguments):
        body = json.dumps({"method": method, "arguments": arguments}).encode()
        headers = {"Content-Type": "application/json"}
        if self.basic:
            headers["Authorization"] = self.basic
        for _ in range(3):
            status, h, data = self.request("POST", self.rpc_path, body, {**headers, "X-Transmission-Session-Id": self.session})
            if status == 409:
                self.session = h.get("X-Transmission-Session-Id", h.get("x-transmission-session-id", ""))
                continue
            if status != 200:
                raise RuntimeError("%s: HTTP %d %s" % (method, status, data[:200]))
            answer = json.loads(data)
            if answer.get("result") != "success":
                raise RuntimeError("%s: %s" % (method, answer.get("result")))
            return answer["arguments"], len(data)
        raise RuntimeError("%s: no session id" % method)

    def has_rpc(self):
        status, _, _ = self.request("POST", self.rpc_path, b"{}", {"Content-Type": "application/json"})
        return status in (200, 401, 409)


def wait_api(api, process, timeout, log):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the daemon exited with %d (log: %s)" % (process.returncode, log))
        try:
            api.request("GET", "/")
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the daemon's API did not answer within %d s (log: %s)" % (timeout, log))


class PeerNet:
    name = "peernet"

    def __init__(self, exe, work, data):
        self.exe, self.data = exe, data
        self.state = os.path.join(work, "peernet-state")
        os.makedirs(self.state, exist_ok=True)
        self.api_port, self.peer_port = free_port(), free_port()
        with open(os.path.join(self.state, "settings.json"), "w") as f:
            json.dump({"Node": {"ListenAddress": "127.0.0.1", "Dht": False, "LocalDiscovery": False},
                       "Torrents": {"DownloadFolder": data},
                       "Logging": {"LogLevel": {"Default": "Warning"}}}, f)
        self.rpc = None

    def command(self):
        return [self.exe, "daemon", "--state", self.state, "--api", "127.0.0.1:%d" % self.api_port,
                "--port", str(self.peer_port)]

    def api(self):
        with open(os.path.join(self.state, "api-token")) as f:
            token = f.read().strip()
        api = Api(self.api_port, token)
        if self.rpc is None:
            self.rpc = api.has_rpc()
        return api

    def add(self, api, torrent):
        status, _, body = api.request("POST", "/api/v1/torrents", torrent, {"Content-Type": "application/x-bittorrent"})
        if status not in (200, 201):
            raise RuntimeError("add: HTTP %d %s" % (status, body[:300]))

    def seeding(self, api):
        status, _, body = api.request("GET", "/api/v1/torrents")
        if status != 200:
            raise RuntimeError("list: HTTP %d" % status)
        return sum(1 for t in json.loads(body) if t["state"] == "Seeding")

    def status_all(self, api):
        if self.rpc:
            return api.rpc("torrent-get", {"fields": LIST_FIELDS})[1]
        status, _, body = api.request("GET", "/api/v1/torrents")
        if status != 200:
            raise RuntimeError("list: HTTP %d" % status)
        return len(body)


class Transmission:
    name = "transmission"

    def __init__(self, work, data):
        self.data = data
        self.config = os.path.join(work, "transmission-config")
        os.makedirs(self.config, exist_ok=True)
        self.api_port, self.peer_port = free_port(), free_port()
        with open(os.path.join(self.config, "settings.json"), "w") as f:
            json.dump({"dht-enabled": False, "lpd-enabled": False, "port-forwarding-enabled": False,
                       "rpc-authentication-required": False, "rpc-whitelist-enabled": False,
                       "rpc-host-whitelist-enabled": False, "rpc-bind-address": "127.0.0.1",
                       "rpc-port": self.api_port, "peer-port": self.peer_port, "download-dir": data,
                       "bind-address-ipv4": "127.0.0.1", "message-level": 1}, f)
        self.rpc = True

    def command(self):
        return ["transmission-daemon", "-f", "-g", self.config]

    def api(self):
        return Api(self.api_port)

    def add(self, api, torrent):
        api.rpc("torrent-add", {"metainfo": base64.b64encode(torrent).decode(), "download-dir": self.data})

    def seeding(self, api):
        torrents = api.rpc("torrent-get", {"fields": ["id", "status", "percentDone"]})[0]["torrents"]
        return sum(1 for t in torrents if t["status"] == TR_SEEDING and t["percentDone"] == 1)

    def status_all(self, api):
        return api.rpc("torrent-get", {"fields": LIST_FIELDS})[1]


def wait_seeding(client, api, process, count, timeout):
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("%s exited with %d" % (client.name, process.returncode))
        seen = client.seeding(api)
        if seen == count:
            return
        time.sleep(0.5)
    raise RuntimeError("%s: %d of %d torrents seeding after %d s" % (client.name, seen, count, timeout))


def stop(process):
    t0 = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None
    return time.monotonic() - t0


def wrk(port, token, path, clients, seconds):
    """wrk's summary of CLIENTS connections polling PATH for SECONDS (two threads: the machine's cores are shared)."""
    out = subprocess.run(["wrk", "-t2", "-c%d" % clients, "-d%ds" % seconds, "--latency", "--timeout", "10s",
                          "-H", "Authorization: Bearer " + token, "http://127.0.0.1:%d%s" % (port, path)],
                         capture_output=True, text=True, timeout=seconds + 60, check=True).stdout

    def latency(label):
        m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % re.escape(label), out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"path": path, "clients": clients, "seconds": seconds, "requests": requests,
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "errors": errors + (int(non2xx.group(1)) if non2xx else 0),
            "p50_ms": latency("50%"), "p99_ms": latency("99%")}


def run(client, torrents, args, work):
    log_path = os.path.join(work, client.name + ".log")
    log = open(log_path, "ab")
    row = {"client": client.name, "torrents": len(torrents)}
    process = None
    try:
        print("%s: adding %d torrents..." % (client.name, len(torrents)), file=sys.stderr, flush=True)
        t0 = time.monotonic()
        process = subprocess.Popen(client.command(), stdout=log, stderr=subprocess.STDOUT)
        api = None
        deadline = time.monotonic() + 60
        while api is None:
            try:
                api = client.api()
                wait_api(api, process, 60, log_path)
            except (OSError, RuntimeError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                api = None
                time.sleep(0.1)
        for torrent in torrents:
            client.add(api, torrent)
        row["add_s"] = round(time.monotonic() - t0, 1)
        wait_seeding(client, api, process, len(torrents), args.timeout)
        row["add_seeding_s"] = round(time.monotonic() - t0, 1)
        row["stop_s"] = round(stop(process) or -1, 2)

        print("%s: restarting..." % client.name, file=sys.stderr, flush=True)
        t0 = time.monotonic()
        process = subprocess.Popen(client.command(), stdout=log, stderr=subprocess.STDOUT)
        api = client.api()
        wait_api(api, process, 60, log_path)
        row["api_up_s"] = round(time.monotonic() - t0, 2)
        wait_seeding(client, api, process, len(torrents), args.timeout)
        row["startup_s"] = round(time.monotonic() - t0, 1)

        time.sleep(args.settle)
        cpu0, _, _ = proc_stat(process.pid)
        w0 = time.monotonic()
        time.sleep(args.seconds)
        cpu1, rss, hwm = proc_stat(process.pid)
        row.update(idle_cpu_pct=round(100 * (cpu1 - cpu0) / (time.monotonic() - w0), 2),
                   rss_mib=round(rss, 1), peak_rss_mib=round(hwm, 1))

        latencies, size = [], 0
        for _ in range(args.repeat):
            s0 = time.monotonic()
            size = client.status_all(api)
            latencies.append((time.monotonic() - s0) * 1000)
        latencies.sort()
        row.update(status_via="torrent-get" if client.rpc else "GET /api/v1/torrents",
                   status_p50_ms=round(statistics.median(latencies), 1),
                   status_p95_ms=round(latencies[int(0.95 * (len(latencies) - 1))], 1),
                   status_kib=round(size / 1024, 1))

        if client.name == "peernet" and args.load_seconds > 0:
            print("peernet: API under load (%d clients, %d s)..." % (args.load_clients, args.load_seconds),
                  file=sys.stderr, flush=True)
            token = api.headers["Authorization"].split(" ", 1)[1]
            row["load"] = [wrk(client.api_port, token, path, args.load_clients, args.load_seconds)
                           for path in ("/api/v1/torrents/1", "/api/v1/node")]
        return row
    finally:
        if process is not None and process.poll() is None:
            stop(process)
        log.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--peernet", required=True, help="the published peernet executable")
    p.add_argument("--work", required=True)
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--size-kib", type=int, default=16)
    p.add_argument("--seconds", type=float, default=60, help="the idle window")
    p.add_argument("--settle", type=float, default=10)
    p.add_argument("--repeat", type=int, default=20, help="status-of-all requests timed")
    p.add_argument("--timeout", type=int, default=1800)
    p.add_argument("--load-clients", type=int, default=200)
    p.add_argument("--load-seconds", type=int, default=60)
    p.add_argument("--clients", default="peernet,transmission")
    p.add_argument("--json")
    args = p.parse_args()

    data = os.path.join(args.work, "data")
    print("making %d torrents of %d KiB..." % (args.count, args.size_kib), file=sys.stderr, flush=True)
    make_torrents(data, args.count, args.size_kib * 1024, 16384, None)
    names = sorted(n for n in os.listdir(data) if n.endswith(".torrent"))
    torrents = []
    for n in names:
        with open(os.path.join(data, n), "rb") as f:
            torrents.append(f.read())

    rows = []
    for name in args.clients.split(","):
        client = PeerNet(args.peernet, args.work, data) if name == "peernet" else Transmission(args.work, data) \
            if name == "transmission" else None
        if client is None:
            raise SystemExit("unknown client " + name)
        rows.append(run(client, torrents, args, args.work))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)

    print("| daemon | torrents | add all (s) | added and seeding (s) | stop (s) | restart: API up (s) | restart: all seeding (s) "
          "| idle CPU (% of a core) | RSS (MiB) | peak RSS (MiB) | status of all: p50 / p95 (ms) | answer (KiB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %d | %.1f | %.1f | %.2f | %.2f | %.1f | %.2f | %.0f | %.0f | %.1f / %.1f (%s) | %.0f |" % (
            r["client"], r["torrents"], r["add_s"], r["add_seeding_s"], r["stop_s"], r["api_up_s"], r["startup_s"],
            r["idle_cpu_pct"], r["rss_mib"], r["peak_rss_mib"], r["status_p50_ms"], r["status_p95_ms"],
            r["status_via"], r["status_kib"]))
    for r in rows:
        for load in r.get("load", []):
            print()
            print("API under load: %(clients)d connections polling `%(path)s` for %(seconds)d s: %(requests)d requests "
                  "(%(rps).0f/s), %(errors)d errors, latency p50 %(p50_ms).2f ms, p99 %(p99_ms).2f ms" % load)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
