#!/usr/bin/python3
"""A DHT of libtorrent nodes on loopback, joined to other DHT nodes, that announces and looks up info-hashes.

usage: lt_dht.py SAVE_PATH [--sessions N] [--host ADDRESS]... [--port N] [--node HOST:PORT]... [--announce HEX]... [--get-peers HEX]...
                 [--put-immutable TEXT]... [--get-immutable HEX]...
                 [--put-mutable SEED_HEX PUBLIC_KEY_HEX SALT TEXT]... [--get-mutable PUBLIC_KEY_HEX SALT]...
                 [--seed TORRENT CONTENT_DIR] [--download MAGNET SAVE_DIR]

Starts N (default 4) libtorrent sessions on 127.0.0.1 with the DHT on and its loopback restrictions off
(dht_restrict_routing_ips, dht_restrict_search_ips, dht_ignore_dark_internet, dht_prefer_verified_node_ids,
and the per-IP packet limit dht_block_ratelimit),
no bootstrap routers; every session is told about the others and about each --node. Prints one line
{"ports": [...]} (each session's port: TCP for peers, UDP for the DHT), then every 2 s: session 0 announces
each --announce on the DHT with its own port (the bindings cannot call dht_announce in 2.0.8, so session 0
adds a torrent by info-hash alone and forces its DHT announce; expect peer 127.0.0.1:ports[0]) (info-hash
hex), the last session looks up each --get-peers, and a line {"dht_nodes": [...]} gives each
session's routing-table size. Each get_peers reply prints {"get_peers": HEX, "peers": ["IP:PORT", ...]}.
Each round session 0 also puts each --put-immutable (a BEP 44 string item) and prints {"put_immutable": TARGET},
and the last session gets each --get-immutable; a found item prints {"immutable": TARGET, "value": BENCODED-VALUE-AS-LATIN-1}.
--put-mutable: session 0 puts TEXT (a bencoded string) as a BEP 44 mutable item under the Ed25519 key whose
32-byte seed is SEED_HEX (libtorrent signs with the 64-byte expanded key: SHA-512 of the seed, clamped) and SALT
('' for none); libtorrent reads the current item and puts it with seq + 1 each round; dht_put_alert prints
{"put_mutable": PUBLIC_KEY_HEX, "seq": N, "nodes": N}. --get-mutable: the last session gets the item; a found one
prints {"mutable": PUBLIC_KEY_HEX, "salt": SALT, "seq": N, "value": BENCODED-VALUE-AS-LATIN-1}.
--seed: session 0 seeds TORRENT from CONTENT_DIR and announces it on the DHT (no trackers, no peers given).
--download: the last session adds MAGNET with no trackers and no peers, so the DHT is its only way to peers
(and for PeerNet's announce, the BEP 9 metadata and BEP 52 layers); it prints {"download": STATUS} every second
(lt_seed.py's status line) and {"done": true, "seconds": S, "total_payload_download": N} once every piece is
verified. Peer connections are plain TCP (no uTP, no MSE), as lt_common.make_session's.
--host (repeatable; default 127.0.0.1) and --port: every session listens on each --host, session i at port N + i
(--port 0, the default: a free port, with one --host only). Given an IPv4 and an IPv6 address (in a network
namespace of the test's), each session runs one DHT node per family (BEP 32), and announces and looks up on both.
Runs until stdin closes.
"""
import argparse
import hashlib
import sys
import time

import warnings

import libtorrent as lt

import lt_common


def listen_ports(session, timeout=30.0):
    """(TCP port, UDP port) of SESSION once it listens on both; raises on a listen failure or timeout."""
    tcp = udp = None
    deadline = time.monotonic() + timeout
    while (tcp is None or udp is None) and time.monotonic() < deadline:
        lt_common.wait_for_alerts(0.1)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.listen_failed_alert):
                raise RuntimeError(alert.message())
            if isinstance(alert, lt.listen_succeeded_alert):
                if alert.socket_type == lt.socket_type_t.tcp:
                    tcp = alert.port
                elif alert.socket_type in (lt.socket_type_t.udp, lt.socket_type_t.utp):
                    udp = alert.port
    if tcp is None or udp is None:
        raise RuntimeError("libtorrent did not listen on TCP and UDP within %s s" % timeout)
    return tcp, udp


def make_listening_session(hosts, port, attempts=5):
    """A DHT session and its port, one number for TCP and UDP. With port 0 libtorrent takes a free TCP port and binds
    UDP to the same number, or to another when some other process holds that UDP port (seen in CI: TCP 35091, UDP
    35092). Its DHT announces carry the UDP port (implied_port), while peers and the tests dial the TCP one and
    bootstrap from the one printed: such a session is dropped and another made."""
    for _ in range(attempts):
        session = make_dht_session(hosts, port)
        tcp, udp = listen_ports(session)
        if tcp == udp:
            return session, tcp
        del session
    raise RuntimeError("libtorrent's TCP and UDP ports differed in %d sessions in a row" % attempts)


def make_dht_session(hosts, port):
    settings = {
        "listen_interfaces": ",".join(("[%s]:%d" if ":" in h else "%s:%d") % (h, port) for h in hosts),
        "enable_dht": True,
        "dht_bootstrap_nodes": "",
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_ignore_dark_internet": False,
        "dht_prefer_verified_node_ids": False,
        # libtorrent drops every packet from an IP that sends more than 5 a second, for 5 minutes
        # (dht_block_ratelimit, dht_block_timeout). Here every node is 127.0.0.1, so the replies to a session's
        # own lookups got it blocked: its routing table emptied within half a minute and stayed empty (seen in
        # CI as an item stored on 3 nodes that libtorrent never found).
        "dht_block_ratelimit": 100000,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "out_enc_policy": int(lt.enc_policy.disabled),
        "in_enc_policy": int(lt.enc_policy.enabled),
        "alert_mask": lt.alert.category_t.dht_notification
        | lt.alert.category_t.dht_operation_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.error_notification
        | lt.alert.category_t.peer_notification
        | lt.alert.category_t.connect_notification,
    }
    return lt.session(settings)


def expanded_secret_key(seed):
    """libtorrent's (orlp ed25519's) 64-byte secret key for a 32-byte seed: SHA-512(seed), first half clamped."""
    h = bytearray(hashlib.sha512(seed).digest())
    h[0] &= 248
    h[31] &= 63
    h[31] |= 64
    return bytes(h)


def as_bytes(value):
    """The bindings hand fixed-size keys back as bytes or as a latin-1 str, depending on the field."""
    return value if isinstance(value, bytes) else str(value).encode("latin-1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("save_path")
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--host", action="append", default=[])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--node", action="append", default=[], type=lt_common.parse_peer)
    parser.add_argument("--announce", action="append", default=[])
    parser.add_argument("--get-peers", action="append", default=[])
    parser.add_argument("--put-immutable", action="append", default=[])
    parser.add_argument("--get-immutable", action="append", default=[])
    parser.add_argument("--put-mutable", nargs=4, action="append", default=[], metavar=("SEED_HEX", "PUBLIC_KEY_HEX", "SALT", "TEXT"))
    parser.add_argument("--get-mutable", nargs=2, action="append", default=[], metavar=("PUBLIC_KEY_HEX", "SALT"))
    parser.add_argument("--seed", nargs=2, metavar=("TORRENT", "CONTENT_DIR"))
    parser.add_argument("--download", nargs=2, metavar=("MAGNET", "SAVE_DIR"))
    args = parser.parse_args()

    warnings.simplefilter("ignore", DeprecationWarning)  # session.status(): still the simplest node count
    lt_common.exit_when_stdin_closes()
    hosts = args.host or ["127.0.0.1"]
    if args.port == 0 and len(hosts) > 1:
        parser.error("several --host need a --port")
    try:
        sessions, ports = zip(*[make_listening_session(hosts, args.port + i if args.port else 0) for i in range(args.sessions)])
    except RuntimeError as e:
        print(str(e), file=sys.stderr)
        return 4
    sessions, ports = list(sessions), list(ports)
    lt_common.emit({"ports": ports})
    for s in sessions:
        for p in ports:
            for h in hosts:
                s.add_dht_node((h, p))
        for host, port in args.node:
            s.add_dht_node((host, port))

    announces = []
    for hex_hash in args.announce:
        params = lt.add_torrent_params()
        params.info_hashes = lt.info_hash_t(lt.sha1_hash(bytes.fromhex(hex_hash)))
        params.save_path = args.save_path
        announces.append(sessions[0].add_torrent(params))
    if args.seed:
        announces.append(lt_common.add_torrent(sessions[0], args.seed[0], args.seed[1], seed_mode=True))
    download = None
    if args.download:
        params = lt.parse_magnet_uri(args.download[0])
        params.save_path = args.download[1]
        params.trackers = []
        download = sessions[-1].add_torrent(params)
    lookups = [lt.sha1_hash(bytes.fromhex(h)) for h in args.get_peers]
    started = time.monotonic()
    done = False
    next_status = 0.0

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
            for seed_hex, public_hex, salt, text in args.put_mutable:
                sessions[0].dht_put_mutable_item(expanded_secret_key(bytes.fromhex(seed_hex)), bytes.fromhex(public_hex), text.encode(), salt.encode())
            for public_hex, salt in args.get_mutable:
                sessions[-1].dht_get_mutable_item(bytes.fromhex(public_hex), salt.encode())
            lt_common.emit({"dht_nodes": [s.status().dht_nodes for s in sessions]})
        if download is not None and not done:
            status = download.status()
            if status.has_metadata and status.is_seeding and status.num_pieces == download.torrent_file().num_pieces():
                done = True
                lt_common.emit({"done": True, "seconds": round(now - started, 3), "total_payload_download": status.total_payload_download})
            elif now >= next_status:
                next_status = now + 1.0
                lt_common.emit({"download": lt_common.status_line(download, started)})
        lt_common.wait_for_alerts(0.05)
        for s in sessions:
            for alert in s.pop_alerts():
                if isinstance(alert, lt.dht_get_peers_reply_alert):
                    peers = [("[%s]:%d" if ":" in ip else "%s:%d") % (ip, port) for ip, port in alert.peers()]
                    lt_common.emit({"get_peers": str(alert.info_hash), "peers": peers})
                elif isinstance(alert, lt.dht_immutable_item_alert):
                    try:
                        value = lt.bencode(alert.item).decode("latin-1")
                    except RuntimeError:  # not found: the entry is undefined
                        continue
                    lt_common.emit({"immutable": str(alert.target), "value": value})
                elif isinstance(alert, lt.dht_mutable_item_alert):
                    try:
                        item = alert.item  # the whole record (key, salt, seq, signature, value); raises while not found
                        value = lt.bencode(item["value"] if isinstance(item, dict) else item).decode("latin-1")
                    except RuntimeError:
                        continue
                    lt_common.emit({"mutable": as_bytes(alert.key).hex(), "salt": as_bytes(alert.salt).decode("latin-1"),
                                    "seq": alert.seq, "value": value})
                elif isinstance(alert, lt.dht_put_alert) and alert.seq > 0:
                    lt_common.emit({"put_mutable": as_bytes(alert.public_key).hex(), "seq": alert.seq, "nodes": alert.num_success})
                elif isinstance(alert, lt_common.PEER_ALERTS) or alert.category() & lt.alert.category_t.error_notification:
                    lt_common.emit({"alert": type(alert).__name__, "message": alert.message()})


if __name__ == "__main__":
    sys.exit(main())
