#!/usr/bin/python3
"""A DHT of libtorrent nodes on loopback, joined to other DHT nodes, that announces and looks up info-hashes.

usage: lt_dht.py SAVE_PATH [--sessions N] [--node HOST:PORT]... [--announce HEX]... [--get-peers HEX]...
                 [--put-immutable TEXT]... [--get-immutable HEX]...

Starts N (default 4) libtorrent sessions on 127.0.0.1 with the DHT on and its loopback restrictions off
(dht_restrict_routing_ips, dht_restrict_search_ips, dht_ignore_dark_internet, dht_prefer_verified_node_ids),
no bootstrap routers; every session is told about the others and about each --node. Prints one line
{"ports": [...]} (each session's port: TCP for peers, UDP for the DHT), then every 2 s: session 0 announces
each --announce on the DHT with its own port (the bindings cannot call dht_announce in 2.0.8, so session 0
adds a torrent by info-hash alone and forces its DHT announce; expect peer 127.0.0.1:ports[0]) (info-hash
hex), the last session looks up each --get-peers, and a line {"dht_nodes": [...]} gives each
session's routing-table size. Each get_peers reply prints {"get_peers": HEX, "peers": ["IP:PORT", ...]}.
Each round session 0 also puts each --put-immutable (a BEP 44 string item) and prints {"put_immutable": TARGET},
and the last session gets each --get-immutable; a found item prints {"immutable": TARGET, "value": BENCODED-VALUE-AS-LATIN-1}.
Runs until stdin closes.
"""
import argparse
import sys
import time

import warnings

import libtorrent as lt

import lt_common


def make_dht_session():
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": True,
        "dht_bootstrap_nodes": "",
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_ignore_dark_internet": False,
        "dht_prefer_verified_node_ids": False,
        "alert_mask": lt.alert.category_t.dht_notification
        | lt.alert.category_t.dht_operation_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.error_notification,
    }
    return lt.session(settings)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("save_path")
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--node", action="append", default=[], type=lt_common.parse_peer)
    parser.add_argument("--announce", action="append", default=[])
    parser.add_argument("--get-peers", action="append", default=[])
    parser.add_argument("--put-immutable", action="append", default=[])
    parser.add_argument("--get-immutable", action="append", default=[])
    args = parser.parse_args()

    warnings.simplefilter("ignore", DeprecationWarning)  # session.status(): still the simplest node count
    lt_common.exit_when_stdin_closes()
    sessions = [make_dht_session() for _ in range(args.sessions)]
    try:
        ports = [lt_common.wait_for_listen(s) for s in sessions]
    except RuntimeError as e:
        print(str(e), file=sys.stderr)
        return 4
    lt_common.emit({"ports": ports})
    for s in sessions:
        for p in ports:
            s.add_dht_node(("127.0.0.1", p))
        for host, port in args.node:
            s.add_dht_node((host, port))

    announces = []
    for hex_hash in args.announce:
        params = lt.add_torrent_params()
        params.info_hashes = lt.info_hash_t(lt.sha1_hash(bytes.fromhex(hex_hash)))
        params.save_path = args.save_path
        announces.append(sessions[0].add_torrent(params))
    lookups = [lt.sha1_hash(bytes.fromhex(h)) for h in args.get_peers]

    next_round = 0.0
    while True:
        now = time.monotonic()
        if now >= next_round:
            next_round = now + 2.0
            for s in sessions:
                for host, port in args.node:
                    s.add_dht_node((host, port))
            for handle in announces:
                handle.force_dht_announce()
            for info_hash in lookups:
                sessions[-1].dht_get_peers(info_hash)
            for text in args.put_immutable:
                lt_common.emit({"put_immutable": str(sessions[0].dht_put_immutable_item(text))})
            for hex_target in args.get_immutable:
                sessions[-1].dht_get_immutable_item(lt.sha1_hash(bytes.fromhex(hex_target)))
            lt_common.emit({"dht_nodes": [s.status().dht_nodes for s in sessions]})
        for s in sessions:
            s.wait_for_alert(50)
            for alert in s.pop_alerts():
                if isinstance(alert, lt.dht_get_peers_reply_alert):
                    peers = ["%s:%d" % (ip, port) for ip, port in alert.peers()]
                    lt_common.emit({"get_peers": str(alert.info_hash), "peers": peers})
                elif isinstance(alert, lt.dht_immutable_item_alert):
                    try:
                        value = lt.bencode(alert.item).decode("latin-1")
                    except RuntimeError:  # not found: the entry is undefined
                        continue
                    lt_common.emit({"immutable": str(alert.target), "value": value})
                elif alert.category() & lt.alert.category_t.error_notification:
                    lt_common.emit({"alert": type(alert).__name__, "message": alert.message()})


if __name__ == "__main__":
    sys.exit(main())
