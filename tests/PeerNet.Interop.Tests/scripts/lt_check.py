#!/usr/bin/python3
"""Check data on disk against a .torrent with libtorrent, and print the result as JSON on stdout.

usage: lt_check.py TORRENT SAVE_PATH [TIMEOUT_SECONDS]

The session stays on loopback (no DHT, LSD, UPnP or NAT-PMP; the torrent's trackers are removed). Waits
(default at most 60 s) for libtorrent's file check to finish. Output: {state, progress, num_pieces,
pieces_have, is_seeding, errors}. Exits 3 if the check did not finish in time.
"""
import json
import sys
import time

import libtorrent as lt

import lt_common


def main(argv):
    if len(argv) not in (3, 4):
        print("usage: lt_check.py TORRENT SAVE_PATH [TIMEOUT_SECONDS]", file=sys.stderr)
        return 2
    timeout = float(argv[3]) if len(argv) == 4 else 60.0
    session = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.error_notification,
    })
    params = lt.load_torrent_file(argv[1])  # not lt.torrent_info(): see lt_common.add_torrent
    params.save_path = argv[2]
    params.trackers = []
    params.url_seeds = []
    handle = session.add_torrent(params)

    errors = []
    checked = False
    deadline = time.monotonic() + timeout
    while not checked and time.monotonic() < deadline:
        lt_common.wait_for_alerts(0.2)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.torrent_checked_alert):
                checked = True
            elif alert.category() & lt.alert.category_t.error_notification:
                errors.append(alert.message())

    status = handle.status()
    print(json.dumps({
        "state": str(status.state),
        "progress": status.progress,
        "num_pieces": params.ti.num_pieces(),
        "pieces_have": sum(1 for have in status.pieces if have),
        "is_seeding": status.is_seeding,
        "errors": errors,
    }))
    if not checked:
        print("libtorrent did not finish checking within %s s" % timeout, file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
