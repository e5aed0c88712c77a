#!/usr/bin/python3
"""libtorrent seeding every .torrent of FOLDER (data beside them) from one session on 127.0.0.1:PORT, until
SIGTERM: bench/scripts/idle.py's comparison for a node hosting many torrents.

libtorrent's defaults but for what a user hosting that many torrents changes and what keeps it on loopback: every
torrent is started (not auto-managed: its defaults keep 5 seeds active), no UPnP, NAT-PMP or LSD."""
import os
import signal
import sys
import time

import libtorrent as lt


def main():
    folder, port = sys.argv[1], int(sys.argv[2])
    session = lt.session({
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_lsd": False,
        "alert_mask": lt.alert.category_t.error_notification,
    })
    for name in sorted(os.listdir(folder)):
        if name.endswith(".torrent"):
            params = lt.add_torrent_params()
            params.ti = lt.torrent_info(os.path.join(folder, name))
            params.save_path = folder
            params.flags &= ~lt.torrent_flags.auto_managed
            params.flags &= ~lt.torrent_flags.paused
            session.async_add_torrent(params)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        time.sleep(1)
        session.pop_alerts()


if __name__ == "__main__":
    main()
