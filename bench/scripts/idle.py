#!/usr/bin/python3
"""A node seeding many small torrents, idle: memory and CPU (run by bench/idle.sh, which runs it in a network
namespace of its own that has only loopback).

For each client in turn (PeerNet's samples/SeedMany on the public PeerNetNode, and libtorrent with every torrent
started, as a libtorrent user hosting that many torrents sets it up): a fresh opentracker on 127.0.0.1 whitelisting
every torrent, the client started on the folder of torrents and data, the time until the tracker's scrape shows a
seeder for every torrent ("ready": loaded, checked, announced), then a settling pause and a measured idle window:
CPU time used (user + system, from /proc/PID/stat) as a share of one core, RSS at its end and the peak (VmHWM).
Both clients run with their defaults otherwise (DHT on; with no way out of the namespace it finds no nodes).
"""
import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

TICKS = os.sysconf("SC_CLK_TCK")


def bencode(value):
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(value))


def make_torrents(folder, count, size, piece_length, announce):
    """COUNT single-file v1 torrents of SIZE random bytes each, the data beside them; returns their info-hashes.
    ANNOUNCE None makes trackerless torrents."""
    os.makedirs(folder, exist_ok=True)
    hashes = []
    for i in range(count):
        name = "f%05d.bin" % i
        data = os.urandom(size)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
        pieces = b"".join(hashlib.sha1(data[at:at + piece_length]).digest() for at in range(0, size, piece_length))
        info = {"name": name, "length": size, "piece length": piece_length, "pieces": pieces}
        with open(os.path.join(folder, name + ".torrent"), "wb") as f:
            f.write(bencode({"announce": announce, "info": info} if announce else {"info": info}))
        hashes.append(hashlib.sha1(bencode(info)).digest())
    return hashes


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_stat(pid):
    """(cpu seconds, rss MiB, peak rss MiB) of a live process."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15)
    rss = hwm = 0.0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return cpu, rss, hwm


def seeded(tracker_port, hashes):
    """How many of HASHES the tracker's scrape shows with at least one seeder (50 per request)."""
    count = 0
    for at in range(0, len(hashes), 50):
        query = "&".join("info_hash=" + urllib.parse.quote_from_bytes(h) for h in hashes[at:at + 50])
        with urllib.request.urlopen("http://127.0.0.1:%d/scrape?%s" % (tracker_port, query), timeout=10) as r:
            body = r.read()
        # Each file's entry is d8:completei<N>e...: count the non-zero ones.
        count += body.count(b"8:completei") - body.count(b"8:completei0e")
    return count


def wait_for_whitelist(tracker_port, info_hash, tracker):
    """opentracker listens before a thread of its own has read the whitelist, and refuses every announce until then
    (a client whose first announce is refused retries it only after its back-off, PeerNet's 30 s). Probe with a
    leecher's announce until it is taken, then withdraw the probe (event=stopped)."""
    query = "info_hash=%s&peer_id=-PROBE-0000000000000&port=65000&uploaded=0&downloaded=0&left=1&compact=1" % (
        urllib.parse.quote_from_bytes(info_hash))
    deadline = time.monotonic() + 30
    while True:
        if tracker.poll() is not None:
            raise RuntimeError("opentracker exited with %d" % tracker.returncode)
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/announce?%s" % (tracker_port, query), timeout=5) as r:
                if b"failure reason" not in r.read():
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("opentracker did not serve its whitelist within 30 s")
        time.sleep(0.1)
    with urllib.request.urlopen("http://127.0.0.1:%d/announce?%s&event=stopped" % (tracker_port, query), timeout=5) as r:
        r.read()


def run_client(name, command, folder, hashes, tracker_port, args, log_dir):
    tracker_dir = os.path.join(log_dir, name + "-tracker")
    os.makedirs(tracker_dir, exist_ok=True)
    with open(os.path.join(tracker_dir, "whitelist.txt"), "w") as f:
        f.write("".join(h.hex() + "\n" for h in hashes))
    tracker = subprocess.Popen(["opentracker", "-i", "127.0.0.1", "-p", str(tracker_port), "-P", str(tracker_port),
                                "-d", tracker_dir, "-w", "whitelist.txt"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = open(os.path.join(log_dir, name + ".log"), "wb")
    client = None
    try:
        wait_for_whitelist(tracker_port, hashes[0], tracker)
        started = time.monotonic()
        client = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
        ready = None
        deadline = started + args.ready_timeout
        while time.monotonic() < deadline:
            if client.poll() is not None:
                raise RuntimeError("%s exited with %d (log: %s)" % (name, client.returncode, log.name))
            if seeded(tracker_port, hashes) == len(hashes):
                ready = time.monotonic() - started
                break
            time.sleep(1)
        if ready is None:
            raise RuntimeError("%s: not every torrent announced within %d s" % (name, args.ready_timeout))
        time.sleep(args.settle)
        cpu0, _, _ = proc_stat(client.pid)
        t0 = time.monotonic()
        time.sleep(args.seconds)
        cpu1, rss, hwm = proc_stat(client.pid)
        window = time.monotonic() - t0
        return {"client": name, "torrents": len(hashes), "ready_s": round(ready, 1),
                "idle_cpu_pct": round(100 * (cpu1 - cpu0) / window, 2), "rss_mib": round(rss, 1),
                "peak_rss_mib": round(hwm, 1), "window_s": round(window, 1), "cpu_total_s": round(cpu1, 2)}
    finally:
        if client is not None and client.poll() is None:
            client.terminate()
            try:
                client.wait(15)
            except subprocess.TimeoutExpired:
                client.kill()
                client.wait()
        tracker.terminate()
        tracker.wait()
        log.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seedmany", required=True, help="the published SeedMany executable")
    p.add_argument("--lt-script", required=True, help="bench/scripts/lt_seed_many.py")
    p.add_argument("--work", required=True)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--size-kib", type=int, default=64)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--settle", type=float, default=10)
    p.add_argument("--ready-timeout", type=int, default=600)
    p.add_argument("--clients", default="peernet,libtorrent")
    p.add_argument("--json")
    args = p.parse_args()

    tracker_port = free_port()
    folder = os.path.join(args.work, "torrents")
    hashes = make_torrents(folder, args.count, args.size_kib * 1024, 16384, "http://127.0.0.1:%d/announce" % tracker_port)
    rows = []
    for name in args.clients.split(","):
        port = free_port()
        if name == "peernet":
            command = [args.seedmany, folder, str(port)]
        elif name == "libtorrent":
            command = ["/usr/bin/python3", args.lt_script, folder, str(port)]
        else:
            raise SystemExit("unknown client " + name)
        print("%s: %d torrents..." % (name, args.count), file=sys.stderr, flush=True)
        rows.append(run_client(name, command, folder, hashes, tracker_port, args, args.work))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)

    print("| client | torrents | ready (s) | idle CPU (% of one core) | RSS (MiB) | peak RSS (MiB) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %d | %.1f | %.2f | %.0f | %.0f |" % (r["client"], r["torrents"], r["ready_s"], r["idle_cpu_pct"],
                                                         r["rss_mib"], r["peak_rss_mib"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
