"""Shared by lt_seed.py and lt_download.py: a loopback-only libtorrent session and JSON status lines."""
import faulthandler
import json
import os
import resource
import threading
import time

import libtorrent as lt

# A crash inside libtorrent (seen in CI: signal 11 just after a download starts) prints every Python thread's stack
# to stderr, and, when the test harness asks (it runs us in a folder of our own), leaves a core for gdb.
faulthandler.enable(all_threads=True)
if os.environ.get("PEERNET_CORE_DUMPS") == "1":
    resource.setrlimit(resource.RLIMIT_CORE, (resource.getrlimit(resource.RLIMIT_CORE)[1],) * 2)


def parse_peer(text):
    """HOST:PORT -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError("not HOST:PORT: " + text)
    return host.strip("[]"), int(port)


PRESETS = {"default": dict, "high_performance_seed": lt.high_performance_seed}


def add_preset_argument(parser):
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default",
                        help="libtorrent's settings preset under ours (high_performance_seed: its own tuning for seeding at speed)")


def add_encryption_argument(parser):
    parser.add_argument("--enc", choices=["plain", "forced"], default="plain",
                        help="forced: MSE/PE only, in and out, RC4 payload (pe_forced, pe_rc4); plain: dial plain, accept both")


def add_transport_argument(parser):
    parser.add_argument("--transport", choices=["tcp", "utp"], default="tcp",
                        help="tcp: TCP only, uTP off (default); utp: uTP only, TCP off both ways")


def make_session(port, upload_limit=0, host="127.0.0.1", lsd=False, preset="default", enc="plain", transport="tcp"):
    """A session on HOST:PORT only (127.0.0.1, or ::1 for IPv6): no DHT/UPnP/NAT-PMP, TCP only (uTP off), many peers
    per IP; no LSD unless asked (only inside a private network namespace: LSD multicasts on the listen interface).
    PRESET: libtorrent's settings pack the rest is laid over (its defaults, or high_performance_seed)."""
    settings = PRESETS[preset]()
    settings.update({
        "listen_interfaces": ("[%s]:%d" if ":" in host else "%s:%d") % (host, port),
        "enable_dht": False,
        "enable_lsd": lsd,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_tcp": True,
        "enable_incoming_tcp": True,
        "allow_multiple_connections_per_ip": True,
        # Plain BitTorrent handshakes both ways: the peers under test need not speak MSE.
        "out_enc_policy": int(lt.enc_policy.disabled),
        "in_enc_policy": int(lt.enc_policy.enabled),
        "allowed_enc_level": int(lt.enc_level.both),
        "alert_mask": lt.alert.category_t.status_notification
        | lt.alert.category_t.error_notification
        | lt.alert.category_t.storage_notification
        | lt.alert.category_t.peer_notification
        | lt.alert.category_t.connect_notification,
    })
    if transport == "utp":
        settings["enable_outgoing_utp"] = True
        settings["enable_incoming_utp"] = True
        settings["enable_outgoing_tcp"] = False
        settings["enable_incoming_tcp"] = False
    if enc == "forced":
        settings["out_enc_policy"] = int(lt.enc_policy.forced)
        settings["in_enc_policy"] = int(lt.enc_policy.forced)
        settings["allowed_enc_level"] = int(lt.enc_level.rc4)
    if lsd:
        # LSD announces and replies are log alerts ("==> LSD: ...", "<== LSD: ..."): worth a line in a failing test.
        settings["alert_mask"] |= lt.alert.category_t.session_log_notification
    if upload_limit > 0:
        settings["upload_rate_limit"] = upload_limit
        # Loopback counts as a local network, which libtorrent exempts from limits unless told otherwise.
        settings["ignore_limits_on_local_network"] = False
    return lt.session(settings)


def wait_for_alerts(seconds):
    """Waits before the next pop_alerts. Never session.wait_for_alert: the bindings turn the alert pointer it returns
    into a Python object, and by then libtorrent's network thread may have moved that alert (posting alerts grows
    the queue's storage), so the conversion's dynamic_cast reads freed memory. Seen as segfaults (exit 139) in CI
    and reproduced with a core: __dynamic_cast under caller<alert const* (*)(session&, int)> in the main thread."""
    time.sleep(seconds)


def wait_for_listen(session, timeout=30.0):
    """The port the session listens on, once it does; raises on a listen failure or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wait_for_alerts(0.1)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.listen_failed_alert):
                raise RuntimeError(alert.message())
            if isinstance(alert, lt.listen_succeeded_alert) and session.listen_port() > 0:
                return session.listen_port()
    if session.listen_port() > 0:
        return session.listen_port()
    raise RuntimeError("libtorrent did not listen within %s s" % timeout)


def add_torrent(session, torrent_path, save_path, seed_mode=False, trackers=()):
    """Adds the torrent with only the given trackers (the torrent's own are dropped: tests stay on loopback).

    The parameters come from lt.load_torrent_file, not lt.torrent_info(): a torrent_info made in Python is held by
    libtorrent through a boost.python deleter that drops a Python reference, without the GIL, on whichever
    libtorrent thread releases it last (arvidn/libtorrent#580). (Not the cause of the segfaults seen in CI: see
    wait_for_alerts.)"""
    params = lt.load_torrent_file(torrent_path)
    params.save_path = save_path
    params.trackers = list(trackers)
    params.url_seeds = []
    if seed_mode:
        params.flags |= lt.torrent_flags.seed_mode
    return session.add_torrent(params)


def wait_for_check(session, handle, timeout):
    """Waits until libtorrent has checked the files on disk; returns the error messages seen."""
    errors = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = handle.status().state
        if state not in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data):
            return errors
        wait_for_alerts(0.1)
        for alert in session.pop_alerts():
            if alert.category() & lt.alert.category_t.error_notification:
                errors.append(alert.message())
    raise RuntimeError("libtorrent did not finish checking within %s s (%s)" % (timeout, errors))


# Peer events worth a line: why a connection to the peer under test ended is the first question when it fails.
PEER_ALERTS = (lt.peer_connect_alert, lt.peer_disconnected_alert, lt.peer_error_alert, lt.peer_ban_alert,
               lt.hash_failed_alert, lt.incoming_connection_alert)


def emit_alerts(session):
    """Prints {"alert": TYPE, "message": ...} for peer events and errors, and drops the other alerts."""
    for alert in session.pop_alerts():
        if isinstance(alert, PEER_ALERTS) or alert.category() & lt.alert.category_t.error_notification \
                or (isinstance(alert, lt.log_alert) and "LSD" in alert.message()):
            emit({"alert": type(alert).__name__, "message": alert.message()})


def connect_missing(handle, peers):
    """Dials every peer we are not connected to (again): libtorrent gives up on a peer after a few failures."""
    connected = {(p.ip[0], p.ip[1]) for p in handle.get_peer_info()}
    for peer in peers:
        if peer not in connected:
            handle.connect_peer(peer)


def status_line(handle, started):
    s = handle.status()
    return {
        "t": round(time.monotonic() - started, 2),
        "state": str(s.state),
        "progress": round(s.progress, 4),
        "pieces_have": s.num_pieces,
        "is_seeding": s.is_seeding,
        "num_peers": s.num_peers,
        "download_rate": s.download_rate,
        "upload_rate": s.upload_rate,
        "total_download": s.total_download,
        "total_upload": s.total_upload,
        "total_payload_download": s.total_payload_download,
        "total_payload_upload": s.total_payload_upload,
    }


def emit(obj):
    print(json.dumps(obj), flush=True)


def exit_when_stdin_closes():
    """Ends the process when stdin reaches EOF, so a test host that dies takes its peers with it."""
    def watch():
        # os.read, not sys.stdin: a daemon thread blocked inside a buffered reader aborts the interpreter's
        # shutdown ("could not acquire lock for <stdin>").
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        emit({"exit": "stdin closed"})
        os._exit(0)  # skip libtorrent's orderly shutdown, which may wait on peers

    threading.Thread(target=watch, daemon=True).start()
