#!/usr/bin/python3
"""Seed a torrent with libtorrent on loopback until killed or until stdin closes.

usage: lt_seed.py TORRENT SAVE_PATH [--port P] [--lsd] [--peer HOST:PORT]... [--upload-limit BYTES_PER_S]
                  [--seed-mode] [--check-timeout S] [--tracker URL]...

SAVE_PATH is the folder holding the torrent's content (the file or folder named after the torrent). The
data is rechecked first (or trusted with --seed-mode, where libtorrent verifies each piece on first
request); then one line {"port", "num_pieces", "pieces_have", "errors"} says the seeder is ready, and each
--peer is dialed (and dialed again every 2 s while not connected: Transmission and aria2 only accept
connections). Then peer events as {"alert", "message"} lines, and a status line every second: {t, state, progress, pieces_have, is_seeding, num_peers,
download_rate, upload_rate, total_download, total_upload, total_payload_download, total_payload_upload}.
Exits 3 if the data is not complete after the check, 4 if it cannot listen or check in time.
"""
import argparse
import sys
import time

import lt_common


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("torrent")
    parser.add_argument("save_path")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on: 127.0.0.1, or ::1 for IPv6")
    parser.add_argument("--lsd", action="store_true", help="local service discovery on (only inside a private network namespace)")
    parser.add_argument("--peer", action="append", default=[], type=lt_common.parse_peer)
    parser.add_argument("--upload-limit", type=int, default=0)
    parser.add_argument("--seed-mode", action="store_true")
    parser.add_argument("--check-timeout", type=float, default=120.0)
    parser.add_argument("--tracker", action="append", default=[])
    lt_common.add_encryption_argument(parser)
    lt_common.add_transport_argument(parser)
    lt_common.add_preset_argument(parser)
    args = parser.parse_args()

    lt_common.exit_when_stdin_closes()
    started = time.monotonic()
    session = lt_common.make_session(args.port, args.upload_limit, args.host, lsd=args.lsd, preset=args.preset, enc=args.enc, transport=args.transport)
    try:
        port = lt_common.wait_for_listen(session)
        handle = lt_common.add_torrent(session, args.torrent, args.save_path, args.seed_mode, args.tracker)
        errors = lt_common.wait_for_check(session, handle, args.check_timeout)
    except RuntimeError as e:
        print(str(e), file=sys.stderr)
        return 4
    status = handle.status()
    num_pieces = handle.torrent_file().num_pieces()
    lt_common.emit({"port": port, "num_pieces": num_pieces, "pieces_have": status.num_pieces, "errors": errors})
    if not args.seed_mode and not status.is_seeding:
        print("the data at %s is not complete: %d/%d pieces" % (args.save_path, status.num_pieces, num_pieces), file=sys.stderr)
        return 3

    next_dial = 0.0
    next_status = time.monotonic() + 1.0
    while True:
        now = time.monotonic()
        if args.peer and now >= next_dial:
            lt_common.connect_missing(handle, args.peer)
            next_dial = now + 2.0
        if now >= next_status:
            lt_common.emit(lt_common.status_line(handle, started))
            next_status += 1.0
        lt_common.wait_for_alerts(0.2)
        lt_common.emit_alerts(session)


if __name__ == "__main__":
    sys.exit(main())
