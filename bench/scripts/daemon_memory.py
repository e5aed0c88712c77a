#!/usr/bin/python3
"""Memory of one `peernet daemon` holding COUNT small seeding torrents (16 KiB each, trackerless, DHT and LSD off).

    exe=$(bench/publish-peernet.sh) && /usr/bin/python3 bench/scripts/daemon_memory.py "$exe" 3000 [--work DIR]

Makes the torrents and their data (kept in the work folder for the next run), starts the daemon, adds them all through
its REST API, waits until every one seeds, lets it settle 10 s, and prints its CPU seconds, RSS and peak RSS (MiB) with
the anonymous and file-backed parts of the RSS (/proc/PID/status). The daemon is left running for a heap dump
(`dotnet-gcdump collect -p PID`) until Enter is pressed. Used for docs/performance.md's memory-per-torrent figures;
bench/daemon.sh is the full comparison with transmission-daemon.
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_scale import PeerNet  # noqa: E402
from idle import make_torrents, proc_stat  # noqa: E402


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("exe")
    parser.add_argument("count", type=int)
    parser.add_argument("--work", default=None)
    args = parser.parse_args()
    work = args.work or "/tmp/peernet-bench-memory-%d" % args.count
    data = os.path.join(work, "data")
    if not os.path.exists(data):
        make_torrents(data, args.count, 16384, 16384, None)
    state = os.path.join(work, "peernet-state")
    subprocess.run(["rm", "-rf", state], check=True)
    daemon = PeerNet(args.exe, work, data)
    with open(os.path.join(work, "log"), "w") as log:
        process = subprocess.Popen(daemon.command(), stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    api = daemon.api()
                    api.request("GET", "/api/v1/node")
                    break
                except (OSError, ValueError):
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("the daemon did not come up (log: %s)" % log.name)
                    time.sleep(0.2)
            for name in sorted(os.listdir(data)):
                if name.endswith(".torrent"):
                    with open(os.path.join(data, name), "rb") as f:
                        daemon.add(api, f.read())
            while daemon.seeding(api) < args.count:
                time.sleep(0.5)
            time.sleep(10)
            cpu, rss, peak = proc_stat(process.pid)
            print("torrents %d: pid %d, CPU %.1f s, RSS %.1f MiB (anonymous %.1f, file-backed %.1f), peak %.1f MiB" % (
                args.count, process.pid, cpu, rss, status_kib(process.pid, "RssAnon") / 1024,
                status_kib(process.pid, "RssFile") / 1024, peak), flush=True)
            if sys.stdin.isatty():
                input("daemon running for a heap dump; Enter stops it ")
        finally:
            process.terminate()
            process.wait(30)


if __name__ == "__main__":
    main()
