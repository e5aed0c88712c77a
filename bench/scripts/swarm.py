#!/usr/bin/python3
"""Whole-transfer benchmark on loopback: PeerNet, libtorrent and aria2 side by side (driven by bench/swarm.sh).

usage: swarm.py --peernet PATH --lt-scripts DIR --work DIR [--size-mib 1024] [--swarm-mib 256] [--runs 3]
                [--only transfer|swarm] [--json OUT]

1. One seeder -> one downloader, v1 (1 MiB pieces) and v2, for the pairs in PAIRS. For each transfer:
   MB/s from the downloader's launch to its "done" line (PeerNet: "complete:", libtorrent: {"done": true},
   aria2: its exit), downloader CPU s (user+sys of the whole process, from wait4) and peak RSS (VmHWM) and
   peak anonymous RSS (RssAnon polled every 50 ms; libtorrent maps files, so its RSS counts page cache);
   seeder CPU s over the same interval (from /proc/PID/stat) and its peak RSS since the downloader started
   (VmHWM reset through /proc/PID/clear_refs). The seeder is started, and has checked its data, before the
   clock starts. Each download goes into a fresh folder, removed afterwards.
2. Capped swarm: one seeder capped at 20 MB/s (20,000,000 B/s) upload and 8 leechers, one process each, all
   on 127.0.0.1; every leecher is given the seeder and every other leecher. Leechers keep seeding once
   complete. Time from the first leecher's launch until every leecher is complete, against the peer-to-peer
   ideal (size / cap), and the seeder's share of all payload bytes uploaded. PeerNet runs twice: a plain seeder
   ("peernet") and one with --super-seed ("peernet-super").

Prints a markdown report; --json writes every raw measurement.
"""
import argparse
import http.server
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

PY = "/usr/bin/python3"  # python3-libtorrent loads only under Debian's python
TICK = os.sysconf("SC_CLK_TCK")
SWARM_CAP = 20_000_000
SWARM_LEECHERS = 8
# PeerNet's encryption variants (bench/encryption.sh): the default (MSE enabled: an encrypted handshake, plaintext
# payload), plain BitTorrent only, and MSE forced with an RC4 payload.
# MSE's cost is measured over TCP (bench/encryption.sh: peernet-plain, peernet-tcp for the default, peernet-rc4), as
# libtorrent's rows run: a node at its defaults dials uTP first, which costs more CPU than TCP on loopback.
PEERNET_VARIANTS = {"peernet": [], "peernet-plain": ["--encryption", "disabled", "--utp", "off"],
                    "peernet-rc4": ["--encryption", "forced", "--encryption-level", "rc4", "--utp", "off"],
                    # bench/utp.sh: the downloader dials over uTP only, or both sides use TCP only.
                    "peernet-utp": ["--utp", "only"], "peernet-tcp": ["--utp", "off"]}
SWARM_CLIENTS = ("peernet", "peernet-super", "libtorrent")  # peernet-super: `peernet seed --super-seed` (BEP 16)
UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_size(text):
    """'256.3 MiB' (PeerNet's ByteSize.Format) -> bytes."""
    number, unit = text.split()
    return float(number) * UNITS[unit]


class Proc:
    """A child process whose stdout lines are read as they come (with their arrival time) and whose memory is
    polled; wait4 gives its exact CPU time and peak RSS at exit."""

    def __init__(self, name, args, log_dir, cwd=None):
        self.name = name
        self.args = args
        self.lines = []  # (monotonic time, line)
        self.cond = threading.Condition()
        self.peak_anon_kib = 0
        self.rusage = None
        self.returncode = None
        self.stderr_path = os.path.join(log_dir, name + ".stderr")
        self.started = time.monotonic()
        with open(self.stderr_path, "wb") as err:
            self.popen = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, cwd=cwd,
                                          env=dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT="1"))
        self.pid = self.popen.pid
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._poll, daemon=True).start()

    def _read(self):
        for raw in self.popen.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                self.lines.append((time.monotonic(), line))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def _poll(self):
        while self.returncode is None:
            status = self.status()
            if status and "RssAnon" in status:
                self.peak_anon_kib = max(self.peak_anon_kib, status["RssAnon"])
            time.sleep(0.05)

    def status(self):
        """/proc/PID/status as {field: kB}, or None once gone."""
        try:
            with open("/proc/%d/status" % self.pid) as f:
                out = {}
                for line in f:
                    key, _, value = line.partition(":")
                    if value.strip().endswith("kB"):
                        out[key] = int(value.split()[0])
                return out
        except OSError:
            return None

    def cpu_seconds(self):
        """user+sys so far, from /proc/PID/stat."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def reset_peak_rss(self):
        with open("/proc/%d/clear_refs" % self.pid, "w") as f:
            f.write("5")
        self.peak_anon_kib = 0

    def wait_line(self, predicate, timeout, start=0):
        """The first (time, line, match) from line index START where predicate(line) is truthy; raises on
        timeout or exit."""
        deadline = time.monotonic() + timeout
        with self.cond:
            index = start
            while True:
                while index < len(self.lines):
                    t, line = self.lines[index]
                    index += 1
                    match = predicate(line)
                    if match:
                        return t, line, match
                if self.reap() and index >= len(self.lines):
                    raise RuntimeError("%s exited (%s) before the expected line; stderr in %s; last lines:\n%s" % (
                        self.name, self.popen.returncode, self.stderr_path, "\n".join(l for _, l in self.lines[-10:])))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError("%s: no expected line within %s s; last lines:\n%s" % (
                        self.name, timeout, "\n".join(l for _, l in self.lines[-10:])))
                self.cond.wait(min(left, 0.5))

    def reap(self):
        """True once the process has exited; reaps it with wait4 (exact CPU time and peak RSS), never Popen.poll."""
        if self.returncode is None:
            pid, status, rusage = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.exited = time.monotonic()
                self.rusage = rusage
                self.returncode = os.waitstatus_to_exitcode(status)
                self.popen.returncode = self.returncode
        return self.returncode is not None

    def wait_exit(self, timeout):
        """Waits for exit; returns (time, returncode)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.reap():
                return self.exited, self.returncode
            if time.monotonic() > deadline:
                raise RuntimeError("%s did not exit within %s s" % (self.name, timeout))
            time.sleep(0.01)

    def stop(self):
        """Closes stdin (the libtorrent scripts exit on it) and sends SIGTERM (SIGINT may be ignored: a shell's
        background jobs inherit SIG_IGN for it); kills after 10 s."""
        try:
            self.popen.stdin.close()
        except OSError:
            pass
        if not self.reap():
            try:
                os.kill(self.pid, signal.SIGTERM)
                self.wait_exit(10)
            except RuntimeError:
                os.kill(self.pid, signal.SIGKILL)
                self.wait_exit(10)


class Tracker:
    """A minimal HTTP tracker (compact peer lists, one swarm) for aria2, which has no way to be given a peer."""

    def __init__(self):
        peers = self.peers = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                port = int(query["port"][0])
                me = (self.client_address[0], port)
                if query.get("event", [""])[0] == "stopped":
                    peers.pop(me, None)
                else:
                    peers[me] = True
                compact = b"".join(socket.inet_aton(h) + p.to_bytes(2, "big") for h, p in peers if (h, p) != me)
                body = b"d8:intervali5e5:peers%d:%se" % (len(compact), compact)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/announce" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Bench:
    def __init__(self, args):
        self.a = args
        self.work = args.work
        self.logs = os.path.join(self.work, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.serial = 0

    def name(self, role):
        self.serial += 1
        return "%03d-%s" % (self.serial, role)

    # -- the clients ----------------------------------------------------------------------------------
    def aria2_args(self, port, folder, torrent, tracker, mode):
        return ["aria2c", "--no-conf", "--interface=127.0.0.1", "--disable-ipv6=true", "--listen-port=%d" % port,
                "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
                "--file-allocation=none", "--summary-interval=1", "--console-log-level=notice", "--enable-color=false",
                "--bt-tracker=" + tracker, "--dir=" + folder] + mode + [torrent]

    def start_seeder(self, client, torrent, content, upload_limit=0, port=0, super_seed=False):
        """Starts a seeder of CONTENT (the file) and waits until it has checked its data; returns (proc, port)."""
        folder = os.path.dirname(content)
        if client in PEERNET_VARIANTS:
            # No DHT or LSD, as libtorrent runs here (lt_common.make_session): the peers are given.
            args = [self.a.peernet, "seed", torrent, content, "--bind", "127.0.0.1", "--port", str(port), "--no-dht", "--no-lsd"]
            args += PEERNET_VARIANTS[client]
            if super_seed:
                args.append("--super-seed")
            if upload_limit:
                args += ["--upload-limit", str(upload_limit)]
            p = Proc(self.name("peernet-seed"), args, self.logs)
            _, _, m = p.wait_line(lambda l: re.match(r"listening on port (\d+)", l), 120)
            p.wait_line(lambda l: l.startswith("seeding "), 300)
            return p, int(m.group(1))
        if client in LT_PRESETS:
            args = [PY, os.path.join(self.a.lt_scripts, "lt_seed.py"), torrent, folder, "--port", str(port),
                    "--check-timeout", "600", "--preset", LT_PRESETS[client], "--transport", LT_TRANSPORT.get(client, "tcp"),
                    "--enc", LT_ENCRYPTION.get(client, "plain")]
            if upload_limit:
                args += ["--upload-limit", str(upload_limit)]
            p = Proc(self.name("lt-seed"), args, self.logs)
            _, line, _ = p.wait_line(lambda l: l.startswith('{"port"'), 600)
            return p, json.loads(line)["port"]
        if client == "aria2":
            port = port or free_port()
            p = Proc(self.name("aria2-seed"), self.aria2_args(port, folder, torrent, self.tracker.url,
                                                              ["--check-integrity=true", "--seed-ratio=0.0"]), self.logs)
            p.wait_line(lambda l: " SEED(" in l, 600)
            deadline = time.monotonic() + 30
            while ("127.0.0.1", port) not in self.tracker.peers:
                if time.monotonic() > deadline:
                    raise RuntimeError("aria2 seeder did not announce")
                time.sleep(0.05)
            return p, port
        raise ValueError(client)

    def start_downloader(self, client, torrent, folder, peers, port=0, seed_after=False):
        os.makedirs(folder)
        peer_args = []
        if client in PEERNET_VARIANTS:
            for peer in peers:
                peer_args += ["--peer", "127.0.0.1:%d" % peer]
            args = [self.a.peernet, "get", torrent, "-o", folder, "--resume-dir", folder + ".resume",
                    "--bind", "127.0.0.1", "--port", str(port), "--no-dht", "--no-lsd"] + peer_args + (["--seed"] if seed_after else [])
            args += PEERNET_VARIANTS[client]
            return Proc(self.name("peernet-get"), args, self.logs)
        if client in LT_PRESETS:
            for peer in peers:
                peer_args += ["--peer", "127.0.0.1:%d" % peer]
            args = [PY, os.path.join(self.a.lt_scripts, "lt_download.py"), torrent, folder, "--port", str(port),
                    "--timeout", "1800", "--preset", LT_PRESETS[client], "--transport", LT_TRANSPORT.get(client, "tcp"),
                    "--enc", LT_ENCRYPTION.get(client, "plain")] + peer_args + (["--seed-after"] if seed_after else [])
            return Proc(self.name("lt-get"), args, self.logs)
        if client == "aria2":
            return Proc(self.name("aria2-get"), self.aria2_args(port or free_port(), folder, torrent, self.tracker.url,
                                                                ["--seed-time=0"]), self.logs)
        raise ValueError(client)

    @staticmethod
    def done_predicate(client):
        if client in PEERNET_VARIANTS:
            return lambda l: l.startswith("complete: ")
        if client in LT_PRESETS:
            return lambda l: l.startswith('{"done": true')
        return None  # aria2: its exit

    # -- 1. one seeder -> one downloader ----------------------------------------------------------------
    def transfer(self, fmt, seeder_client, downloader_client, torrent, content, size, run):
        load = loadavg()
        seeder, port = self.start_seeder(seeder_client, torrent, content)
        folder = os.path.join(self.work, "dl-%s-%s-%s-%d" % (fmt, seeder_client, downloader_client, run))
        try:
            with open(content, "rb") as f:  # warm: the seeder's file is in the page cache
                while f.read(1 << 24):
                    pass
            seeder.reset_peak_rss()
            seeder_cpu0 = seeder.cpu_seconds()
            down = self.start_downloader(downloader_client, torrent, folder, [port])
            predicate = self.done_predicate(downloader_client)
            if predicate:
                done, _, _ = down.wait_line(predicate, 1800)
                seeder_cpu = seeder.cpu_seconds() - seeder_cpu0
                seeder_status = seeder.status()
                _, code = down.wait_exit(120)
            else:
                done, code = down.wait_exit(1800)
                seeder_cpu = seeder.cpu_seconds() - seeder_cpu0
                seeder_status = seeder.status()
            if code != 0:
                raise RuntimeError("%s exited %s; see %s" % (down.name, code, down.stderr_path))
            got = [os.path.join(r, n) for r, _, names in os.walk(folder) for n in names]
            if len(got) != 1 or os.path.getsize(got[0]) != size or not same_content(got[0], content):
                raise RuntimeError("%s: the downloaded data differs from the source (%s)" % (down.name, got))
            seconds = done - down.started
            return {
                "format": fmt, "seeder": seeder_client, "downloader": downloader_client, "run": run, "load": load,
                "seconds": seconds, "mb_s": size / 1e6 / seconds,
                "down_cpu": down.rusage.ru_utime + down.rusage.ru_stime, "down_rss_mb": down.rusage.ru_maxrss / 1024,
                "down_anon_mb": down.peak_anon_kib / 1024,
                "seed_cpu": seeder_cpu, "seed_rss_mb": seeder_status["VmHWM"] / 1024,
                "seed_anon_mb": seeder.peak_anon_kib / 1024,
            }
        finally:
            seeder.stop()
            shutil.rmtree(folder, ignore_errors=True)
            shutil.rmtree(folder + ".resume", ignore_errors=True)

    # -- 2. capped swarm --------------------------------------------------------------------------------
    def swarm(self, label, torrent, content, size, run):
        """LABEL: peernet, peernet-super (the seeder with --super-seed) or libtorrent."""
        client = label.split("-")[0]
        load = loadavg()
        seeder, seed_port = self.start_seeder(client, torrent, content, upload_limit=SWARM_CAP, super_seed=label == "peernet-super")
        ports = [free_port() for _ in range(SWARM_LEECHERS)]
        folders = [os.path.join(self.work, "swarm-%s-%d-%d" % (client, run, i)) for i in range(SWARM_LEECHERS)]
        leechers = []
        try:
            started = time.monotonic()
            for i, port in enumerate(ports):
                others = [seed_port] + [p for p in ports if p != port]
                leechers.append(self.start_downloader(client, torrent, folders[i], others, port=port, seed_after=True))
            predicate = self.done_predicate(client)
            finished, received = [], []
            for leecher in leechers:
                t, line, _ = leecher.wait_line(predicate, 1800)
                finished.append(t - started)
                if client == "peernet":
                    received.append(parse_size(re.search(r"received (.+?), sent", line).group(1)))
                else:
                    received.append(json.loads(line)["total_payload_download"])
            after = time.monotonic()
            if client == "peernet":  # a status line every 5 s: the first one after the last leecher finished
                index = len(seeder.lines)
                _, line, m = seeder.wait_line(lambda l: re.search(r"sent (\S+ \S+)$", l), 15, index)
                seeder_sent = parse_size(m.group(1))
            else:  # a status line every second
                time.sleep(1.5)
                line = [l for t, l in seeder.lines if t > after and l.startswith('{"t"')][-1]
                seeder_sent = json.loads(line)["total_payload_upload"]
            for folder in folders:
                got = [os.path.join(r, n) for r, _, names in os.walk(folder) for n in names]
                if len(got) != 1 or not same_content(got[0], content):
                    raise RuntimeError("swarm %s: a leecher's copy differs from the source (%s)" % (client, got))
            elapsed = max(finished)
            ideal = size / SWARM_CAP
            return {
                "client": label, "run": run, "load": load, "seconds": elapsed, "ideal": ideal, "ratio": elapsed / ideal,
                "first_done": min(finished), "seeder_sent": seeder_sent, "received": sum(received),
                "seeder_share": seeder_sent / sum(received), "seeder_copies": seeder_sent / size,
            }
        finally:
            for leecher in leechers:
                leecher.stop()
            seeder.stop()
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)
                shutil.rmtree(folder + ".resume", ignore_errors=True)


def same_content(a, b):
    return subprocess.run(["cmp", "-s", a, b]).returncode == 0


# libtorrent at its defaults, and at its best for this job: its high_performance_seed settings preset on both
# sides (deeper request queues, bigger send buffers and disk queue, unlimited unchoke slots).
LT_PRESETS = {"libtorrent": "default", "libtorrent-hp": "high_performance_seed", "libtorrent-utp": "default",
              "libtorrent-rc4": "default"}
# libtorrent over uTP only (TCP off both ways; bench/utp.sh); the others run TCP only (lt_common.make_session).
LT_TRANSPORT = {"libtorrent-utp": "utp"}
# libtorrent with MSE forced both ways and RC4 on every byte (pe_forced, pe_rc4; bench/encryption.sh); the others dial
# plain and accept both (lt_common.make_session), so two of them talk plain BitTorrent.
LT_ENCRYPTION = {"libtorrent-rc4": "forced"}

# Both clients over TCP, as libtorrent runs here: peernet-tcp is `--utp off`. PeerNet at its defaults ("peernet") dials
# uTP first, as libtorrent at its true defaults would (which here would be libtorrent's 9 MB/s uTP): its row is kept
# beside, for what a user gets without flags. uTP against uTP is bench/utp.sh.
PAIRS = [("peernet-tcp", "peernet-tcp"), ("peernet", "peernet"), ("libtorrent", "libtorrent"), ("libtorrent-hp", "libtorrent-hp"), ("aria2", "aria2"),
         ("libtorrent", "peernet"), ("peernet", "libtorrent"), ("peernet", "libtorrent-hp")]


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def report_transfers(rows, size_mib, runs):
    out = ["One seeder -> one downloader over 127.0.0.1, %d MiB, 1 MiB pieces, median of %d runs:" % (size_mib, runs), "",
           "÷ lt→lt: against libtorrent → libtorrent at its defaults; ÷ best lt: against the faster of that and "
           "libtorrent-hp → libtorrent-hp (its high_performance_seed preset on both sides).", "",
           "| format | seeder → downloader | MB/s | ÷ lt→lt | ÷ best lt | downloader CPU s | ÷ lt→lt | downloader peak RSS MB (anon) "
           "| seeder CPU s | seeder peak RSS MB (anon) | load avg |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for fmt in ("v1", "v2"):
        base = [r for r in rows if r["format"] == fmt and r["seeder"] == "libtorrent" and r["downloader"] == "libtorrent"]
        best = max((med(sel, "mb_s") for sel in (
            [r for r in rows if r["format"] == fmt and r["seeder"] == c and r["downloader"] == c] for c in ("libtorrent", "libtorrent-hp")) if sel),
            default=None)
        extra = sorted({(r["seeder"], r["downloader"]) for r in rows} - set(PAIRS))
        for seeder, downloader in PAIRS + extra:
            sel = [r for r in rows if r["format"] == fmt and r["seeder"] == seeder and r["downloader"] == downloader]
            if not sel:
                continue
            speed, cpu = med(sel, "mb_s"), med(sel, "down_cpu")
            out.append("| %s | %s → %s | %.0f | %s | %s | %.2f | %s | %.0f (%.0f) | %.2f | %.0f (%.0f) | %s |" % (
                fmt, seeder, downloader, speed, "%.2f×" % (speed / med(base, "mb_s")) if base else "-",
                "%.2f×" % (speed / best) if best else "-",
                cpu, "%.2f×" % (cpu / med(base, "down_cpu")) if base else "-",
                med(sel, "down_rss_mb"), med(sel, "down_anon_mb"), med(sel, "seed_cpu"),
                med(sel, "seed_rss_mb"), med(sel, "seed_anon_mb"),
                "–".join("%.1f" % x for x in sorted({min(r["load"] for r in sel), max(r["load"] for r in sel)}))))
    return out


def report_swarm(rows, swarm_mib, runs):
    out = ["Capped swarm over 127.0.0.1: %d MiB, 1 MiB pieces, seeder capped at 20 MB/s, %d leechers (one process "
           "each), median of %d runs:" % (swarm_mib, SWARM_LEECHERS, runs), "",
           "| client | all done s | ideal s | ÷ ideal | first done s | seeder's share of uploads | copies sent by the seeder | load avg |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for client in SWARM_CLIENTS:
        sel = [r for r in rows if r["client"] == client]
        if sel:
            out.append("| %s | %.1f | %.1f | %.2f× | %.1f | %.0f%% | %.2f | %s |" % (
                client, med(sel, "seconds"), sel[0]["ideal"], med(sel, "ratio"), med(sel, "first_done"),
                100 * med(sel, "seeder_share"), med(sel, "seeder_copies"),
                "–".join("%.1f" % x for x in sorted({min(r["load"] for r in sel), max(r["load"] for r in sel)}))))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--peernet", required=True)
    parser.add_argument("--lt-scripts", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--swarm-mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["transfer", "swarm"])
    parser.add_argument("--pairs", help="comma-separated SEEDER:DOWNLOADER subset of the transfer pairs")
    parser.add_argument("--formats", default="v1,v2")
    parser.add_argument("--json")
    a = parser.parse_args()
    bench = Bench(a)
    bench.tracker = Tracker()
    pairs = [tuple(p.split(":")) for p in a.pairs.split(",")] if a.pairs else PAIRS
    sizes = {}
    for label, mib in (("transfer", a.size_mib), ("swarm", a.swarm_mib)):
        if a.only and a.only != label:
            continue
        folder = os.path.join(a.work, "seed-" + label)
        content = os.path.join(folder, "data.bin")
        if mib not in sizes:
            os.makedirs(folder)
            print("writing %d MiB of random data and its torrents..." % mib, file=sys.stderr, flush=True)
            with open(content, "wb") as f:
                for _ in range(mib):
                    f.write(os.urandom(1 << 20))
            for fmt in ("v1", "v2"):
                subprocess.run([a.peernet, "create", content, "--" + fmt, "--piece-size", str(1 << 20), "-o",
                                os.path.join(folder, fmt + ".torrent")], check=True, stdout=subprocess.DEVNULL)
            sizes[mib] = folder
            subprocess.run(["sync"], check=True)  # or the first transfer competes with this data's writeback
        else:
            os.symlink(sizes[mib], folder)

    transfers, swarms = [], []
    if a.only != "swarm":
        # Unmeasured: the first 1 GiB written after the data is created costs every client more (page cache
        # pages touched for the first time); without this the first pair of run 1 pays it.
        print("warm-up transfer (not measured)", file=sys.stderr, flush=True)
        folder = os.path.join(a.work, "seed-transfer")
        bench.transfer("v1", "libtorrent", "libtorrent", os.path.join(folder, "v1.torrent"),
                       os.path.join(folder, "data.bin"), a.size_mib << 20, 0)
        subprocess.run(["sync"])
    try:
        for run in range(1, a.runs + 1):
            if a.only != "swarm":
                folder = os.path.join(a.work, "seed-transfer")
                for fmt in a.formats.split(","):
                    for seeder, downloader in pairs:
                        if fmt == "v2" and "aria2" in (seeder, downloader):
                            continue  # aria2 1.36 rejects v2 torrents
                        print("run %d/%d: %s %s -> %s (load %.1f)" % (run, a.runs, fmt, seeder, downloader, loadavg()),
                              file=sys.stderr, flush=True)
                        row = bench.transfer(fmt, seeder, downloader, os.path.join(folder, fmt + ".torrent"),
                                             os.path.join(folder, "data.bin"), a.size_mib << 20, run)
                        print("  %.0f MB/s, downloader %.2f CPU s %.0f MB, seeder %.2f CPU s %.0f MB" % (
                            row["mb_s"], row["down_cpu"], row["down_rss_mb"], row["seed_cpu"], row["seed_rss_mb"]),
                            file=sys.stderr, flush=True)
                        transfers.append(row)
                        subprocess.run(["sync"])
            if a.only != "transfer":
                folder = os.path.join(a.work, "seed-swarm")
                for client in SWARM_CLIENTS:
                    print("run %d/%d: capped swarm, %s (load %.1f)" % (run, a.runs, client, loadavg()), file=sys.stderr, flush=True)
                    row = bench.swarm(client, os.path.join(folder, "v1.torrent"), os.path.join(folder, "data.bin"),
                                      a.swarm_mib << 20, run)
                    print("  %.1f s = %.2f× ideal, seeder share %.0f%%" % (row["seconds"], row["ratio"], 100 * row["seeder_share"]),
                          file=sys.stderr, flush=True)
                    swarms.append(row)
                    subprocess.run(["sync"])
    finally:
        bench.tracker.close()
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"transfers": transfers, "swarms": swarms}, f, indent=1)

    lines = []
    if transfers:
        lines += report_transfers(transfers, a.size_mib, a.runs) + [""]
    if swarms:
        lines += report_swarm(swarms, a.swarm_mib, a.runs) + [""]
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
