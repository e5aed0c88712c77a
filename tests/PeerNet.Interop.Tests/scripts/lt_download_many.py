#!/usr/bin/python3
"""Download several torrents at once with one libtorrent session on loopback, from one peer.

usage: lt_download_many.py SAVE_PATH --peer HOST:PORT [--timeout S] TORRENT...

First line {"port": N} once listening. The peer is dialed for every torrent, and dialed again every 2 s while a
torrent is not connected to it. A line {"complete": K, "of": N} every second, then, once every torrent has every
piece verified, {"done": true, "seconds"} and exit 0; on timeout (default 120 s) {"done": false, ...} and exit 3.
"""
import argparse
import time

import lt_common


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("save_path")
    parser.add_argument("torrents", nargs="+")
    parser.add_argument("--peer", action="append", default=[], type=lt_common.parse_peer)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()

    lt_common.exit_when_stdin_closes()
    started = time.monotonic()
    session = lt_common.make_session(0)
    lt_common.emit({"port": lt_common.wait_for_listen(session)})
    handles = [lt_common.add_torrent(session, torrent, args.save_path) for torrent in args.torrents]
    deadline = started + args.timeout
    next_dial = 0.0
    next_status = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        now = time.monotonic()
        statuses = [h.status() for h in handles]
        complete = sum(1 for s in statuses if s.is_seeding)
        if complete == len(handles):
            lt_common.emit({"done": True, "seconds": round(now - started, 3)})
            return 0
        if now >= next_dial:
            for handle, status in zip(handles, statuses):
                if not status.is_seeding:
                    lt_common.connect_missing(handle, args.peer)
            next_dial = now + 2.0
        if now >= next_status:
            lt_common.emit({"complete": complete, "of": len(handles)})
            next_status += 1.0
        lt_common.wait_for_alerts(0.05)
        lt_common.emit_alerts(session)
    lt_common.emit({"done": False, "complete": sum(1 for h in handles if h.status().is_seeding), "of": len(handles)})
    return 3


if __name__ == "__main__":
    raise SystemExit(main())
