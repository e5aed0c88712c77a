#!/usr/bin/python3
"""Writes the seed corpora under fuzz/corpus/<target>/. Deterministic except for the libtorrent and mktorrent
torrents, which those tools build from fixed content (creation dates removed). Run with /usr/bin/python3 (it
imports Debian's python3-libtorrent); needs mktorrent. Re-running rewrites every seed."""
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import libtorrent as lt

HERE = os.path.dirname(os.path.abspath(__file__))


def benc(v):
    if isinstance(v, bool):
        raise TypeError("bool")
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, (bytes, bytearray)):
        return b"%d:%s" % (len(v), bytes(v))
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        items = sorted(((k.encode() if isinstance(k, str) else k), x) for k, x in v.items())
        return b"d" + b"".join(benc(k) + benc(x) for k, x in items) + b"e"
    raise TypeError(type(v))


def pb_varint(n):
    """A protobuf / multiformats unsigned varint."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb_field(number, data):
    """A length-delimited protobuf field (bytes, or a string encoded as UTF-8)."""
    if isinstance(data, str):
        data = data.encode()
    return pb_varint(number << 3 | 2) + pb_varint(len(data)) + data


def pb_uint(number, value):
    """A varint protobuf field."""
    return pb_varint(number << 3) + pb_varint(value)


def write(target, name, data):
    folder = os.path.join(HERE, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def content(root):
    """A small fixed tree: one file over several 16 KiB pieces, one short, one empty."""
    os.makedirs(os.path.join(root, "sub"), exist_ok=True)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(bytes((i * 7 + 3) % 251 for i in range(40_000)))
    with open(os.path.join(root, "sub", "small.txt"), "wb") as f:
        f.write(b"hello, swarm\n" * 10)
    open(os.path.join(root, "sub", "empty"), "wb").close()


def lt_torrent(path, flags, piece_size=16384):
    fs = lt.file_storage()
    lt.add_files(fs, path)
    ct = lt.create_torrent(fs, piece_size, flags)
    ct.add_tracker("http://tracker.invalid/announce")
    lt.set_piece_hashes(ct, os.path.dirname(path))
    e = ct.generate()
    e.pop(b"creation date", None)
    e.pop("creation date", None)
    return lt.bencode(e)


def torrents():
    tmp = tempfile.mkdtemp()
    try:
        multi = os.path.join(tmp, "seed")
        content(multi)
        single = os.path.join(tmp, "single.bin")
        shutil.copy(os.path.join(multi, "big.bin"), single)
        write("metainfo", "lt-v1-multi.torrent", lt_torrent(multi, lt.create_torrent.v1_only))
        write("metainfo", "lt-v1-single.torrent", lt_torrent(single, lt.create_torrent.v1_only))
        write("metainfo", "lt-v2-multi.torrent", lt_torrent(multi, lt.create_torrent.v2_only))
        write("metainfo", "lt-v2-single.torrent", lt_torrent(single, lt.create_torrent.v2_only))
        write("metainfo", "lt-hybrid-multi.torrent", lt_torrent(multi, 0))
        out = os.path.join(tmp, "mk.torrent")
        subprocess.run(["mktorrent", "-d", "-l", "15", "-a", "http://tracker.invalid/announce", "-o", out, multi],
                       check=True, stdout=subprocess.DEVNULL)
        with open(out, "rb") as f:
            write("metainfo", "mktorrent-v1-multi.torrent", f.read())
    finally:
        shutil.rmtree(tmp)

    # Hand-made: BEP 47 pad file, symlink and attributes, and one with sanitized (not refused) names.
    piece = 16384
    info = {"name": "pads", "piece length": piece, "files": [
        {"length": 100, "path": ["a"], "attr": "x"},
        {"length": piece - 100, "path": [".pad", str(piece - 100)], "attr": "p"},
        {"length": 10, "path": ["b"]},
        {"length": 0, "path": ["link"], "attr": "l", "symlink path": ["a"]},
    ], "pieces": hashlib.sha1(b"x").digest() * 2}
    write("metainfo", "bep47-pad-symlink.torrent", benc({"announce": "http://t.invalid/a", "info": info}))
    info = {"name": "CON", "piece length": piece, "files": [
        {"length": 5, "path": ["dir.", "a:b*c?.txt"]},
        {"length": 5, "path": ["", ".", "nul.txt"]},
    ], "pieces": hashlib.sha1(b"y").digest()}
    write("metainfo", "sanitized-names.torrent", benc({"info": info, "comment": "names that need rewriting"}))


def compat_seeds():
    """Torrents as libtorrent reads them (tests/data/compat-torrents): repaired names, renamed duplicates, symlinks
    and pads, hybrids and lax bencode, so the campaign starts from each repair."""
    source = os.path.join(HERE, "..", "..", "tests", "data", "compat-torrents")
    for name in ["duplicate-three-times", "duplicate-pads", "duplicate-file-then-folder", "parent-path", "invalid-utf8",
                 "long-name-utf8", "name-dotdot", "pad-file-no-path", "symlink-with-length", "symlink-through-link",
                 "v2-symlinks", "v2-dropped-keys", "v2-file-named-dotdot", "hybrid-no-tail-pad", "hybrid-renamed",
                 "hybrid-single-name-mismatch", "bencode-repeated-key", "bencode-trailing-bytes", "v2-unordered-keys"]:
        with open(os.path.join(source, name + ".torrent"), "rb") as f:
            write("metainfo", "compat-" + name + ".torrent", f.read())


def trackers():
    """Seeds for httptracker (announce and scrape bodies) and udptracker (BEP 15 datagrams)."""
    v4 = bytes([127, 0, 0, 1, 0x1A, 0xE1, 10, 0, 0, 2, 0, 80])
    v6 = bytes(15) + b"\x01" + b"\xc8\xd5"
    write("httptracker", "compact", benc({"complete": 5, "incomplete": 3, "interval": 1800, "min interval": 900,
                                          "peers": v4, "peers6": v6, "tracker id": "abc", "warning message": "slow"}))
    write("httptracker", "dictionary-peers", benc({"interval": 60, "peers": [
        {"ip": "127.0.0.1", "peer id": b"a" * 20, "port": 6881}, {"ip": "2001:db8::2", "port": 1},
        {"ip": "tracker.invalid", "port": 6881}, {"ip": "10.0.0.3", "port": 0}]}))
    write("httptracker", "failure", benc({"failure reason": "Requested download is not authorized for use with this tracker."}))
    write("httptracker", "opentracker", b"d8:completei0e10:downloadedi0e10:incompletei1e8:intervali1917e12:min intervali958e5:peers6:\x7f\x00\x00\x01\x1a\xe1e")
    write("httptracker", "scrape", benc({"files": {hashlib.sha1(b"t").digest(): {"complete": 1, "downloaded": 7, "incomplete": 2},
                                                   hashlib.sha1(b"u").digest(): {}}}))
    write("httptracker", "bad-compact", benc({"peers": bytes(7)}))

    tx = 0xDEADBEEF
    write("udptracker", "connect", struct.pack(">IIq", 0, tx, 0x0102030405060708))
    write("udptracker", "announce-v4", struct.pack(">IIiii", 1, tx, 1800, 2, 1) + v4)
    write("udptracker", "announce-v6", struct.pack(">IIiii", 1, tx, 1800, 2, 1) + v6)
    write("udptracker", "announce-refused-opentracker", struct.pack(">II", 1, tx))
    write("udptracker", "scrape", struct.pack(">IIiiiiii", 2, tx, 1, 2, 3, 4, 5, 6))
    write("udptracker", "error", struct.pack(">II", 3, tx) + b"torrent not whitelisted")


def lsd():
    """BEP 14 announces: ours, libtorrent's, several info-hashes, IPv6, and a few refusals."""
    a = "0123456789abcdef0123456789abcdef01234567"
    b = "FEDCBA9876543210FEDCBA9876543210FEDCBA98"
    for name, text in {
        "one-hash": f"BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: {a}\r\ncookie: c0ffee\r\n\r\n\r\n",
        "libtorrent": f"BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 50000\r\nInfohash: {b}\r\ncookie: 7f3a21\r\n\r\n\r\n",
        "ipv6-many": "BT-SEARCH * HTTP/1.1\r\nHost: [ff15::efc0:988f]:6771\r\nPort: 65535\r\n"
                     + "".join(f"Infohash: {hashlib.sha1(bytes([i])).hexdigest()}\r\n" for i in range(24)) + "\r\n\r\n",
        "lenient": f"bt-search * HTTP/1.0\nport:7\nX-Other: x\ninfohash:\t{a}  \nINFOHASH: {a.upper()}\n\ntrailing",
        "no-port": f"BT-SEARCH * HTTP/1.1\r\nInfohash: {a}\r\n\r\n",
        "bad-hash": "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: 0123\r\n\r\n",
        "m-search": "M-SEARCH * HTTP/1.1\r\nHost: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n",
    }.items():
        write("lsd", name, text.encode())


def libp2p():
    """multiaddrs (binary) and multistream-select exchanges a dialer sends a listener of /noise and /yamux/1.0.0."""
    key = bytes.fromhex("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e")
    p2p = bytes([0xa5, 0x03, 2 + len(key), 0x00, len(key)]) + key
    for name, data in {
        "ip4-tcp": bytes.fromhex("047f000001060fa1"),
        "ip6-udp": bytes.fromhex("2920010db80000000000000000000000429102ffff"),
        "ip4-tcp-p2p": bytes.fromhex("040a000001061ae1") + p2p,
        "p2p-sha256": bytes([0xa5, 0x03, 34, 0x12, 32]) + bytes(range(32)),
        "unknown-code": bytes.fromhex("35"),
    }.items():
        write("multiaddr", name, data)

    def msg(line):
        body = line.encode() + b"\n"
        return bytes([len(body)]) + body

    header = msg("/multistream/1.0.0")
    for name, data in {
        "select-noise": header + msg("/noise"),
        "na-then-yamux": header + msg("/tls/1.0.0") + msg("/yamux/1.0.0") + b"\x00\x00data",
        "ls": header + msg("ls"),
        "bad-header": msg("/multistream/2.0.0"),
        "long-length": header + bytes([0xff, 0xff, 0x03]),
    }.items():
        write("multistream", name, data)

    # yamux: frames the connection's initiator sends a responder (odd streams are the initiator's).
    def frame(ftype, flags, sid, length, payload=b""):
        return struct.pack(">BBHII", 0, ftype, flags, sid, length) + payload

    def data(sid, payload, flags=0):
        return frame(0, flags, sid, len(payload), payload)

    syn, ack, fin, rst = 1, 2, 4, 8
    for name, seed in {
        "open-send-fin": frame(1, syn, 1, 0) + data(1, b"hello") + frame(1, fin, 1, 0),
        "data-syn-fin": data(1, b"x" * 100, syn | fin) + data(3, b"y", syn) + frame(1, rst, 3, 0),
        "window-ping-goaway": frame(1, syn, 1, 65536) + frame(2, syn, 0, 7) + frame(2, ack, 0, 1) + frame(3, 0, 0, 0),
        "many-streams": b"".join(frame(1, syn, 2 * i + 1, 0) for i in range(12)),
        "over-window": data(1, bytes(1000), syn) + frame(0, 0, 1, 300000),
        "bad-version": bytes([1]) + frame(2, syn, 0, 1)[1:],
        "wrong-parity": frame(1, syn, 2, 0),
        "window-overflow": frame(1, syn, 1, 0) + frame(1, 0, 1, 0xFFFFFFFF),
    }.items():
        write("yamux", name, seed)


def varint():
    """VarintTarget's inputs: a byte choosing the cap (low 3 bits: 0, 1, 127, 128, 300, 16383, 16384, 8192) and push
    (bit 3), then length-prefixed messages; the identify seeds carry NoiseTarget's example Ed25519 key."""
    def uvarint(n):
        out = bytearray()
        while n >= 0x80:
            out.append(n & 0x7F | 0x80)
            n >>= 7
        out.append(n)
        return bytes(out)

    def field(number, data):
        return uvarint(number << 3 | 2) + uvarint(len(data)) + data

    def framed(*messages):
        return b"".join(uvarint(len(m)) + m for m in messages)

    key = bytes.fromhex("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e")
    identify = (field(5, b"ipfs/0.1.0") + field(6, b"js-libp2p/3.3.11") + field(1, key)
                + field(2, bytes.fromhex("047f000001060fa1")) + field(2, bytes.fromhex("2920010db80000000000000000000000420fa1"))
                + field(3, b"/ipfs/id/1.0.0") + field(3, b"/ipfs/ping/1.0.0") + field(4, bytes.fromhex("047f0000010604d2")))
    for name, data in {
        "identify": b"\x07" + framed(identify),
        "identify-push-protocols": b"\x0f" + framed(field(3, b"/meshsub/1.1.0"), field(6, b"agent\x01\xe2\x80\xae")),
        "two-messages": b"\x04" + framed(b"abc", bytes(200)),
        "cap-edge": b"\x03" + uvarint(128) + bytes(128) + uvarint(129),
        "varint-max": b"\x07" + bytes([0xff] * 8 + [0x7f]),
        "varint-non-minimal": b"\x07" + bytes([0x81, 0x00]),
        "unfinished-over-cap": b"\x02" + bytes([0x80, 0x80]),
        "identify-other-key": b"\x07" + framed(field(1, bytes([0x08, 0x00]) + field(2, bytes(64))) + field(3, b"/x")),
    }.items():
        write("varint", name, data)


def noise():
    """NoiseTarget's inputs: a mode byte (0: what a dialer sends a responder, 1: what a listener sends an initiator,
    2: the initiator's message-3 payload, 3: transport frames), then its bytes. The keys are NoiseTarget's fixed ones;
    the "payload-valid" seed is the payload its dialer would send (signed here with python3-cryptography)."""
    from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    def raw(public_key):
        return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)

    def seed(what):
        return hashlib.sha256(("peernet-fuzz-noise-dialer" + what).encode()).digest()

    def field(number, data):
        return bytes([number << 3 | 2, len(data)]) + data

    static = raw(x25519.X25519PrivateKey.from_private_bytes(seed("static")).public_key())
    identity = ed25519.Ed25519PrivateKey.from_private_bytes(seed("identity"))
    public = raw(identity.public_key())
    key = bytes([0x08, 0x01]) + field(2, public)  # PublicKey{Type=Ed25519 (a varint), Data}
    signature = identity.sign(b"noise-libp2p-static-key:" + static)
    muxers = field(4, field(2, b"/yamux/1.0.0"))
    ephemeral = hashlib.sha256(b"noise seed ephemeral").digest()
    for name, data in {
        "responder-msg1": b"\x00" + struct.pack(">H", 32) + ephemeral,
        "responder-msg1-payload": b"\x00" + struct.pack(">H", 37) + ephemeral + b"hello",
        "responder-short": b"\x00" + struct.pack(">H", 5) + b"abcde",
        "responder-split-length": b"\x00\xff",
        "initiator-msg2": b"\x01" + struct.pack(">H", 96 + 16) + bytes(range(112)),
        "payload-valid": b"\x02" + field(1, key) + bytes([0x12, len(signature)]) + signature + muxers,
        "payload-rsa": b"\x02" + field(1, bytes([0x08, 0x00]) + field(2, bytes(64))) + field(2, bytes(64)),
        "payload-no-signature": b"\x02" + field(1, key),
        "payload-empty": b"\x02",
        "transport-frames": b"\x03" + struct.pack(">H", 18) + bytes(18) + struct.pack(">H", 16) + bytes(16) + b"\x00",
        "transport-short-frame": b"\x03" + struct.pack(">H", 3) + b"abc",
    }.items():
        write("noise", name, data)


def gossipsub():
    """GossipsubTarget's inputs: gossipsub RPC bodies (rpc.proto, without the length prefix) a peer sends. The
    "publish-signed" seed carries a message signed under StrictSign (python3-cryptography), so Verify's valid path
    is covered; the others: subscriptions, control (IHAVE/IWANT/GRAFT/PRUNE with PX, IDONTWANT), and broken forms."""
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    varint, field, uint = pb_varint, pb_field, pb_uint

    author = ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"peernet-fuzz-gossipsub-author").digest())
    public = author.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = bytes([0x08, 0x01]) + field(2, public)  # PublicKey{Type=Ed25519, Data}
    peer_id = bytes([0x00, len(key)]) + key  # identity multihash of the key
    seqno = struct.pack(">Q", 1)
    unsigned = field(1, peer_id) + field(2, b"hello") + field(3, seqno) + field(4, "chat")
    signature = author.sign(b"libp2p-pubsub:" + unsigned)
    signed = unsigned + field(5, signature) + field(6, key)
    message_id = key + seqno

    def sub(topic, on=True):
        return field(1, uint(1, int(on)) + field(2, topic))

    def control(*entries):
        return field(3, b"".join(entries))

    for name, data in {
        "subscribe": sub("chat") + sub("news") + sub("old", on=False),
        "publish-signed": sub("chat") + field(2, signed),
        "publish-unsigned": field(2, unsigned),
        "publish-bad-signature": field(2, unsigned + field(5, bytes(64)) + field(6, key)),
        "publish-short-seqno": field(2, field(1, peer_id) + field(3, b"\x01") + field(4, "chat")),
        "ihave-iwant": control(field(1, field(1, "chat") + field(2, message_id) + field(2, bytes(40))), field(2, field(1, message_id))),
        "graft-prune-px": control(field(3, field(1, "chat")), field(4, field(1, "news") + field(2, field(1, peer_id) + field(2, bytes(100))) + uint(3, 60))),
        "idontwant": control(field(5, field(1, message_id) + field(1, bytes(8)))),
        "many-graft": control(*(field(3, field(1, "t%d" % i)) for i in range(6))),
        "long-topic": sub("t" * 40),
        "no-topic": field(1, uint(1, 1)),
        "truncated": (sub("chat") + field(2, signed))[:-7],
        "empty": b"",
    }.items():
        write("gossipsub", name, data)


def portmapping():
    """NAT-PMP responses, SSDP answers, UPnP descriptions and SOAP answers as routers (miniupnpd's shapes) send them."""
    def pmp(op, result, epoch, body=b""):
        return struct.pack(">BBHI", 0, 128 + op, result, epoch) + body
    for name, data in {
        "address": pmp(0, 0, 42, bytes([11, 22, 33, 1])),
        "map-tcp": pmp(2, 0, 43, struct.pack(">HHI", 6881, 6881, 7200)),
        "map-udp-other-port": pmp(1, 0, 44, struct.pack(">HHI", 6881, 50000, 3600)),
        "removed": pmp(2, 0, 45, struct.pack(">HHI", 6881, 0, 0)),
        "refused-header-only": pmp(1, 2, 46),
        "unsupported-version": pmp(0, 1, 0),
        "pcp-trailing": pmp(0, 0, 47, bytes([10, 0, 0, 1]) + bytes(40)),
    }.items():
        write("natpmp", name, data)

    # PCP (RFC 6887): 24-byte header (version 2, R bit | opcode, reserved, result, lifetime, epoch, 12 reserved),
    # then MAP's 36 bytes (nonce, protocol, 3 reserved, internal port, external port, external address), then options.
    nonce = bytes(range(1, 13))  # the target's own nonce: these bodies are "ours"
    def pcp(op, result, lifetime, epoch, body=b""):
        return struct.pack(">BBBBII", 2, 0x80 | op, 0, result, lifetime, epoch) + bytes(12) + body
    def pcp_map(protocol, internal, external, address, n=nonce):
        return n + struct.pack(">B3xHH", protocol, internal, external) + address
    mapped = bytes(10) + b"\xff\xff" + bytes([11, 22, 33, 1])
    for name, data in {
        "map-tcp": pcp(1, 0, 7200, 42, pcp_map(6, 6881, 6881, mapped)),
        "map-udp-other-port": pcp(1, 0, 3600, 43, pcp_map(17, 6881, 50000, mapped)),
        "map-ipv6": pcp(1, 0, 7200, 44, pcp_map(6, 6881, 6881, bytes.fromhex("20010db8000000000000000000000001"))),
        "map-other-nonce": pcp(1, 0, 7200, 45, pcp_map(6, 6881, 6881, mapped, bytes(12))),
        "deleted": pcp(1, 0, 0, 46, pcp_map(6, 6881, 0, mapped)),
        "refused": pcp(1, 2, 1800, 47, pcp_map(6, 6881, 0, bytes(16))),
        "refused-header-only": pcp(1, 3, 30, 48),
        "announce": pcp(0, 0, 0, 0),
        "natpmp-unsupported-version": struct.pack(">BBHI", 0, 129, 1, 99),
        "option-prefer-failure": pcp(1, 0, 7200, 49, pcp_map(6, 6881, 6881, mapped) + bytes([2, 0, 0, 0])),
        "option-optional-padded": pcp(1, 0, 7200, 50, pcp_map(6, 6881, 6881, mapped) + bytes([200, 0, 0, 5, 1, 2, 3, 4, 5, 0, 0, 0])),
        "option-mandatory-unknown": pcp(1, 0, 7200, 51, pcp_map(6, 6881, 6881, mapped) + bytes([9, 0, 0, 0])),
        "option-filter": pcp(1, 0, 7200, 52, pcp_map(6, 6881, 6881, mapped) + bytes([3, 0, 0, 20, 0, 32, 0, 0]) + mapped),
    }.items():
        write("pcp", name, data)

    for name, text in {
        "miniupnpd": "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
        "USN: uuid:11111111-2222-3333-4444-555555555555::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nEXT:\r\n"
        "SERVER: Debian UPnP/1.1 MiniUPnPd/2.3.1\r\nLOCATION: http://192.168.77.1:44121/rootDesc.xml\r\n"
        "OPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n01-NLS: 1\r\nBOOTID.UPNP.ORG: 1\r\nCONFIGID.UPNP.ORG: 1337\r\n\r\n",
        "bare-lf": "HTTP/1.0 200 OK\nlocation:http://10.0.0.1/d.xml\nst: upnp:rootdevice\n\n",
        "not-found": "HTTP/1.1 404 Not Found\r\n\r\n",
        "https-location": "HTTP/1.1 200 OK\r\nLOCATION: https://10.0.0.1/\r\nST: x\r\n\r\n",
    }.items():
        write("ssdp", name, text.encode())

    service = ("<service><serviceType>urn:schemas-upnp-org:service:{0}</serviceType><serviceId>x</serviceId>"
               "<SCPDURL>/s.xml</SCPDURL><controlURL>{1}</controlURL><eventSubURL>/evt</eventSubURL></service>")
    description = ('<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>1</minor></specVersion>{0}'
                   "<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType><deviceList><device>"
                   "<deviceType>urn:schemas-upnp-org:device:WANDevice:2</deviceType><deviceList><device>"
                   "<deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType><serviceList>{1}</serviceList>"
                   "</device></deviceList></device></deviceList></device></root>")
    envelope = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
                's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>{0}</s:Body></s:Envelope>')
    fault = ('<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0">'
             "<errorCode>{0}</errorCode><errorDescription>{1}</errorDescription></UPnPError></detail></s:Fault>")
    for name, prefix, text in [
        ("desc-miniupnpd", b"\x00", description.format("", service.format("WANIPConnection:2", "/ctl/IPConn") + service.format("WANIPv6FirewallControl:1", "/ctl/IP6FCtl"))),
        ("desc-ppp-urlbase", b"\x00", description.format("<URLBase>http://192.168.1.1:5000/</URLBase>", service.format("WANPPPConnection:1", "ctl/ppp"))),
        ("desc-elsewhere", b"\x00", description.format("", service.format("WANIPConnection:1", "http://10.0.0.9/ctl"))),
        ("desc-doctype", b"\x00", '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><root>&x;</root>'),
        ("soap-ok", b"\x01", envelope.format('<u:AddPortMappingResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"></u:AddPortMappingResponse>')),
        ("soap-725", b"\x01", envelope.format(fault.format(725, "OnlyPermanentLeasesSupported"))),
        ("soap-718", b"\x01", envelope.format(fault.format(718, "ConflictInMappingEntry"))),
        ("soap-args", b"\x01", envelope.format('<u:AddPortMappingResponse xmlns:u="x"><NewA>1</NewA><NewB><![CDATA[b]]></NewB></u:AddPortMappingResponse>')),
    ]:
        write("upnp-xml", name, prefix + text.encode())


def utp():
    """uTP packets (BEP 29): a SYN, data with a selective ACK and PeerNet's large-datagram offer, a state packet with
    libtorrent's unknown extensions, a reset, and a truncated chain."""
    def header(kind, ext, conn, seq, ack, wnd=1 << 20):
        return struct.pack(">BBHIIIHH", (kind << 4) | 1, ext, conn, 123456, 789, wnd, seq, ack)

    for name, data in {
        "syn": header(4, 0, 0x1234, 1, 0),
        "syn-offer": header(4, 0x50, 0x1234, 1, 0) + bytes([0, 4]) + struct.pack(">I", 60000),
        "data-sack": header(0, 1, 0x1235, 2, 7) + bytes([0x50, 4, 0b101, 0, 0, 0]) + bytes([0, 4]) + struct.pack(">I", 1452) + b"payload",
        "state-unknown-ext": header(2, 2, 0x1235, 9, 8) + bytes([3, 8]) + bytes(8) + bytes([0, 4, 0, 0, 0, 1]),
        "reset": header(3, 0, 0x1235, 9, 8),
        "truncated-chain": header(0, 1, 1, 1, 1) + bytes([0, 8, 1, 2]),
    }.items():
        write("utp", name, data)


def holepunch():
    """BEP 55 ut_holepunch payloads: rendezvous, connect (IPv4, IPv6, one with BEP 55's zero err_code), each error."""
    v4 = bytes([11, 22, 33, 1]) + struct.pack(">H", 6881)
    v6 = bytes.fromhex("20010db8000000000000000000000007") + struct.pack(">H", 51413)
    for name, data in {
        "rendezvous-v4": bytes([0, 0]) + v4,
        "connect-v6": bytes([1, 1]) + v6,
        "connect-zero-code": bytes([1, 0]) + v4 + bytes(4),
        "error-no-such-peer": bytes([2, 0]) + v4 + struct.pack(">I", 1),
        "error-no-self-v6": bytes([2, 1]) + v6 + struct.pack(">I", 4),
    }.items():
        write("holepunch", name, data)


def peersession():
    """Frames a peer sends a seeding node (PeerSessionTarget): requests of every kind, in sequences. In BEP 52 frames a
    pieces root of one byte i then 31 zeros stands for the root of the torrent's i-th v2 file (0: a.bin, five pieces of
    32 KiB; 1: sub/b.bin, two; 2: c.txt, one)."""
    def frame(mid, payload=b""):
        return struct.pack(">IB", 1 + len(payload), mid) + payload

    def ext(eid, payload):
        return frame(20, bytes([eid]) + payload)

    def root(i):
        return bytes([i]) + bytes(31)

    def hashes_fields(i, base, index, length, proof):
        return root(i) + struct.pack(">IIII", base, index, length, proof)

    def request(piece, begin, length=16384):
        return struct.pack(">III", piece, begin, length)

    meta = lambda piece: ext(2, benc({"msg_type": 0, "piece": piece}))
    write("peersession", "empty", b"")
    write("peersession", "interested-request", frame(2) + frame(6, request(0, 0)) + frame(6, request(4, 16384)) + frame(8, request(0, 0)))
    write("peersession", "choked-requests", b"".join(frame(6, request(p % 6, 0)) for p in range(40)))
    write("peersession", "metadata", meta(0) + meta(1) + meta(9) + ext(2, benc({"msg_type": 2, "piece": 0}))
          + ext(2, benc({"msg_type": 1, "piece": 0, "total_size": 5}) + b"abcde") + ext(2, benc({"msg_type": 9})))
    write("peersession", "metadata-flood", meta(0) * 64)
    write("peersession", "piece-layer", frame(21, hashes_fields(0, 1, 0, 8, 2)) + frame(21, hashes_fields(0, 1, 0, 4, 2)))
    write("peersession", "block-hashes", frame(21, hashes_fields(0, 0, 0, 2, 4)) + frame(21, hashes_fields(0, 0, 2, 2, 1))
          + frame(21, hashes_fields(1, 0, 0, 2, 0)) + frame(21, hashes_fields(2, 0, 0, 2, 0)))
    write("peersession", "hash-flood", frame(21, hashes_fields(0, 1, 0, 8, 2)) * 12)
    write("peersession", "hash-replies", frame(22, hashes_fields(0, 0, 0, 4, 1) + bytes(160)) + frame(23, hashes_fields(0, 1, 0, 8, 2))
          + frame(22, hashes_fields(0, 0, 0, 3, 1) + bytes(128)) + frame(22, hashes_fields(0, 0, 0, 1 << 27, 0)))
    write("peersession", "piece-set", frame(5, b"\xf0") + frame(14) + frame(15) + frame(4, struct.pack(">I", 2)) + frame(5, b"\xff\xff"))
    write("peersession", "extension", ext(0, benc({"m": {"ut_metadata": 3, "ut_pex": 4}, "p": 6881, "reqq": 5}))
          + ext(1, benc({"added": bytes([10, 0, 0, 9, 0x1a, 0xe1, 203, 0, 113, 1, 0x1a, 0xe1]), "added.f": b"\x00\x00"}))
          + ext(0, benc({"m": {"ut_metadata": 0}})) + meta(0) + ext(77, b"junk"))
    write("peersession", "cancels", b"".join(frame(8, request(p % 6, 16384 * (p % 2))) for p in range(30)) + frame(99, b"unknown"))


def leechsession():
    """Frames a peer sends a downloading node (LeechSessionTarget), answering what it asks: a hashes or hash reject
    frame with all-zero request fields answers the node's oldest hash request (hashes with no payload: the true
    hashes), and a piece frame of piece 0, offset 0 and no data its oldest block request with the true block."""
    def frame(mid, payload=b""):
        return struct.pack(">IB", 1 + len(payload), mid) + payload

    placeholder = bytes(48)
    true_hashes = frame(22, placeholder)
    true_block = frame(7, struct.pack(">II", 0, 0))
    write("leechsession", "honest", true_hashes + true_block * 24)
    write("leechsession", "reject-then-answer", frame(23, placeholder) + true_block * 4 + true_hashes + true_block * 20)
    write("leechsession", "short-reply", frame(22, placeholder + bytes(3 * 32)) + true_block * 6)
    write("leechsession", "long-reply", frame(22, placeholder + bytes(40 * 32)) + true_block * 6)
    write("leechsession", "false-proof", frame(22, placeholder + bytes(8 * 32)) + true_block * 6)
    root = bytes([7]) * 32
    write("leechsession", "unsolicited", frame(22, root + struct.pack(">IIII", 0, 0, 1 << 27, 0)) + frame(22, root + struct.pack(">IIII", 0, 0, 3, 1) + bytes(4 * 32))
          + frame(23, root + struct.pack(">IIII", 1, 0, 8, 2)) + true_hashes + true_block * 6)
    write("leechsession", "corrupt-block", true_hashes + frame(7, struct.pack(">II", 0, 0) + bytes(16384)) + true_block * 8
          + frame(7, struct.pack(">II", 5, 0) + b"junk") + frame(0) + frame(1) + true_block * 8)


def grid():
    """the storage grid (GridTarget): first byte 0 capability text, 1 share bytes, 2 Merkle proof, 3 store messages."""
    import struct
    a52 = "a" * 52
    write("grid", "read-cap", b"\x00" + f"URI:PEERNET-CHK:{a52}:{a52}:3:10:5000".encode())
    write("grid", "verify-cap", b"\x00" + f"URI:PEERNET-CHK-VERIFIER:{a52}:{a52}:1:1:0".encode())
    write("grid", "bad-cap", b"\x00" + f"URI:PEERNET-CHK:{a52}:{a52}:3:10:05".encode())
    ext = b"PNCHKEB1" + bytes([2]) + struct.pack(">HIQ", 10, 1024, 5000) + bytes(32) + bytes(32)
    header = b"PNSHARE1" + struct.pack(">H", 4) + ext + bytes(32) + bytes(32 * 4)
    write("grid", "share-header", b"\x01" + header)
    write("grid", "share-with-hashes", b"\x01" + header + bytes(32 * 5) + bytes(350 * 5))
    write("grid", "proof", b"\x02" + bytes(32) + struct.pack("<ii", 3, 5) + bytes(32) + bytes(96))
    def varint(n):
        out = b""
        while True:
            b = n & 0x7F
            n >>= 7
            out += bytes([b | (0x80 if n else 0)])
            if not n:
                return out
    def field(number, data):
        return varint(number << 3 | 2) + varint(len(data)) + data
    def num(number, value):
        return varint(number << 3) + varint(value)
    si = field(1, bytes(32))
    write("grid", "allocate", b"\x03" + field(1, si + num(2, 3) + num(3, 4096) + num(4, 86400)))
    write("grid", "read-blocks", b"\x03" + field(6, si + num(2, 1) + field(3, bytes([0, 1, 2]))))
    write("grid", "answer", b"\x03" + num(1, 1) + field(5, num(1, 0) + field(2, b"block") + field(3, bytes(32))))


def main():
    torrents()
    compat_seeds()
    trackers()
    lsd()
    portmapping()
    libp2p()
    varint()
    noise()
    kad()
    gossipsub()
    utp()
    holepunch()
    peersession()
    leechsession()
    grid()
    with open(os.path.join(HERE, "metainfo", "lt-v1-single.torrent"), "rb") as f:
        write("bencode", "torrent", f.read())
    for name, data in {
        "int": b"i-42e", "int-max": b"i9223372036854775807e", "int-min": b"i-9223372036854775808e",
        "string": b"4:spam", "empty-list": b"le", "empty-dict": b"de",
        "dict": b"d3:cow3:moo4:spaml1:a1:bee", "nested": b"lli1eeld1:ai0eeee",
        "unsorted": b"d1:b0:1:a0:e",
        # Forms a .torrent may hold (read by TryParseTorrent only): leading zeros, -0, a repeated key, trailing bytes.
        "lax-torrent-forms": b"d1:bi-0e1:ai01e1:a02:xyei00000000000000000001eejunk",
    }.items():
        write("bencode", name, data)

    v1 = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
    v2 = "1220" + "caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e"
    for name, link in {
        "v1-hex": f"magnet:?xt=urn:btih:{v1}",
        "v1-base32": "magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK&dn=base32",
        "v2": f"magnet:?xt=urn:btmh:{v2}&dn=v2+only",
        "hybrid-full": f"magnet:?xt=urn:btih:{v1}&xt=urn:btmh:{v2}&dn=My%20Film%20%C3%A9&xl=1234567"
                       "&tr=http%3A%2F%2Ftracker.invalid%2Fannounce&tr.1=udp://t2.invalid:80&ws=http://ws.invalid/f"
                       "&x.pe=10.0.0.1:6881&x.pe=[::1]:51413&so=0,2,4-6&x.custom=kept&xt=urn:ed2k:abc",
        "odd": f"MAGNET:?XT=urn:btih:{v1.upper()}&&dn=&tr=&unknown&%78%74.2=urn:btih:{v1}",
    }.items():
        write("magnet", name, link.encode())

    for name, path in {
        "plain": b"a/b/c.txt", "traversal": b"../../etc/passwd", "device": b"CON/aux.txt/LPT1.log",
        "backslash": b"a\\..\\b", "drive": b"C:/Windows/x", "dots": b"dir/./file. /trail ",
        "invalid-utf8": b"caf\xc3/\xff\xfe/ok", "control": b"tab\there/new\nline", "empty": b"//",
        # As libtorrent reads them: NUL and bidi controls removed, names cut at 240 bytes keeping the extension.
        "nul-bidi": b"a\x00b/\xe2\x80\xaegpj.exe/..\x00", "long": b"x" * 300 + b".mkv/" + "\u00e9".encode() * 130 + b".txt",
    }.items():
        write("path", name, path)

    proto = b"\x13BitTorrent protocol"
    reserved = bytes([0, 0, 0, 0, 0, 0x10, 0, 0x05])
    hs = proto + reserved + bytes(range(20)) + b"-PN0100-abcdefghijkl"
    write("handshake", "full", hs)
    write("handshake", "with-message", hs + struct.pack(">IB", 1, 2))
    write("handshake", "partial", hs[:30])
    write("handshake", "http", b"GET / HTTP/1.1\r\n\r\n")

    def frame(mid, payload=b""):
        return struct.pack(">IB", 1 + len(payload), mid) + payload

    hashreq = bytes(range(32)) + struct.pack(">IIII", 0, 0, 2, 1)
    stream = (b"\0\0\0\0" + frame(0) + frame(1) + frame(2) + frame(3) + frame(4, struct.pack(">I", 7))
              + frame(5, b"\xff\xc0") + frame(6, struct.pack(">III", 1, 0, 16384))
              + frame(7, struct.pack(">II", 1, 0) + b"block") + frame(8, struct.pack(">III", 1, 0, 16384))
              + frame(9, struct.pack(">H", 6881)) + frame(13, struct.pack(">I", 3)) + frame(14) + frame(15)
              + frame(16, struct.pack(">III", 2, 0, 16384)) + frame(17, struct.pack(">I", 4))
              + frame(20, b"\x00d1:md6:ut_pexi1eee") + frame(21, hashreq) + frame(22, hashreq + bytes(64))
              + frame(23, hashreq) + frame(99, b"unknown"))
    write("peerwire", "all-messages", b"\x00" + stream)
    write("peerwire", "truncated", b"\x00" + stream[:40])
    write("peerwire", "too-long", b"\x02" + struct.pack(">I", 100) + b"x" * 20)
    write("peerwire", "bad-have", b"\x00" + frame(4, b"\x80\0\0\0") + frame(4, b"\0\0"))

    write("bitfield", "exact", b"\x00\xff\x0f\xa5")
    write("bitfield", "spare-clear", b"\x03\xff\xe0")
    write("bitfield", "spare-set", b"\x03\xff\xe1")
    write("bitfield", "explicit", b"\x80\x00\x00\x0a\xff\xc0")

    write("exthandshake", "libtorrent", benc({
        "m": {"ut_metadata": 2, "ut_pex": 1, "lt_donthave": 7, "upload_only": 3},
        "metadata_size": 31235, "p": 6881, "reqq": 500, "v": "libtorrent/2.0.8", "yourip": bytes([127, 0, 0, 1]),
        "ipv4": bytes([10, 0, 0, 2]), "ipv6": bytes(15) + b"\x01", "upload_only": 1}))
    write("exthandshake", "disable", benc({"m": {"ut_pex": 0}}))
    write("exthandshake", "wrong-types", benc({"m": {"a": "x", "b": -1, "": 3}, "p": 70000, "v": 5, "yourip": b"abc"}))

    write("utmetadata", "request", benc({"msg_type": 0, "piece": 0}))
    write("utmetadata", "reject", benc({"msg_type": 2, "piece": 3}))
    write("utmetadata", "data", benc({"msg_type": 1, "piece": 0, "total_size": 10}) + b"0123456789")
    write("utmetadata", "data-last", benc({"msg_type": 1, "piece": 1, "total_size": 16390}) + b"abcdef")
    write("utmetadata", "unknown-type", benc({"msg_type": 7}))

    write("utpex", "v4-v6", benc({
        "added": bytes([10, 0, 0, 1, 0x1a, 0xe1, 192, 168, 1, 2, 0xc8, 0xd5]), "added.f": b"\x01\x12",
        "added6": bytes(15) + b"\x01\x1a\xe1", "added6.f": b"\x00",
        "dropped": bytes([1, 2, 3, 4, 0, 80]), "dropped6": b""}))
    write("utpex", "mapped", benc({"added6": bytes(10) + b"\xff\xff" + bytes([8, 8, 8, 8]) + b"\x00\x35"}))
    write("utpex", "bad-flags", benc({"added": bytes(12), "added.f": b"\x01"}))

    ida, idb = b"abcdefghij0123456789", b"mnopqrstuvwxyz123456"
    node4 = idb + bytes([10, 0, 0, 1]) + struct.pack(">H", 6881)
    node6 = ida + bytes(15) + b"\x01" + struct.pack(">H", 6882)
    write("krpc", "ping", benc({"t": "aa", "y": "q", "q": "ping", "a": {"id": ida}}))
    write("krpc", "find-node-want", benc({"t": "aa", "y": "q", "q": "find_node", "a": {"id": ida, "target": idb, "want": ["n4", "n6"]}, "ro": 1}))
    write("krpc", "get-peers", benc({"t": "ab", "y": "q", "q": "get_peers", "a": {"id": ida, "info_hash": idb}, "v": "LT\x02\x00"}))
    write("krpc", "announce-implied", benc({"t": "ac", "y": "q", "q": "announce_peer", "a": {"id": ida, "info_hash": idb, "implied_port": 1, "port": 6881, "token": "aoeusnth"}}))
    write("krpc", "response-nodes-values", benc({"t": "aa", "y": "r", "ip": bytes([203, 0, 113, 7, 0x1a, 0xe1]), "r": {"id": idb, "token": b"\x01\x02\x03\x04", "nodes": node4 * 2, "nodes6": node6, "values": [bytes([10, 0, 0, 2, 0x1a, 0xe1]), bytes(15) + b"\x01\x1a\xe1"]}}))
    write("krpc", "error", benc({"t": "aa", "y": "e", "e": [201, "A Generic Error Ocurred"]}))
    write("krpc", "put-mutable", benc({"t": "pp", "y": "q", "q": "put", "a": {"id": ida, "token": "tk", "v": "Hello World!", "k": bytes(32), "sig": bytes(64), "salt": "foobar", "seq": 4, "cas": 3}}))
    write("krpc", "get-response-item", benc({"t": "gg", "y": "r", "r": {"id": idb, "token": "tk", "v": ["a", {"b": 1}], "k": bytes(32), "sig": bytes(64), "seq": 9, "nodes": node4}}))
    write("krpc", "sample-infohashes", benc({"t": "ss", "y": "r", "r": {"id": idb, "interval": 21600, "num": 50, "samples": ida + idb, "nodes": node4}}))
    write("krpc", "mapped-in-nodes6", benc({"t": "mm", "y": "r", "r": {"id": idb, "nodes6": ida + bytes(10) + b"\xff\xff" + bytes([1, 2, 3, 4]) + b"\x1a\xe1"}}))
    write("krpc", "bad-compact", benc({"t": "aa", "y": "r", "r": {"id": idb, "nodes": node4[:25]}}))
    write("krpc", "unknown-method", benc({"t": "aa", "y": "q", "q": "vote", "a": {"id": ida}}))

    def resume(files, count, pieces, h1=True, h2=False, saved=1700000000):
        d = {"files": [{"length": l, "mtime-ns": m} for l, m in files], "format": "peernet-resume",
             "piece count": count, "piece length": 16384, "pieces": pieces, "saved": saved, "version": 1}
        if h1:
            d["info-hash"] = hashlib.sha1(b"t").digest()
        if h2:
            d["info-hash2"] = hashlib.sha256(b"t").digest()
        return benc(d)

    write("resume", "v1", resume([(40000, 1700000000123456700), (130, 0), (-1, 0)], 4, b"\xd0"))
    write("resume", "hybrid", resume([(5, 1)], 1, b"\x80", h2=True))
    write("resume", "v2-empty", resume([], 0, b"", h1=False, h2=True, saved=-5))


def kad():
    """Kademlia DHT (/ipfs/kad/1.0.0) streams: varint-length-prefixed dht.proto messages, one or several a seed."""
    varint, field, num = pb_varint, pb_field, pb_uint

    def frame(body):
        return varint(len(body)) + body

    key = bytes.fromhex("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e")
    peer_id = bytes([0x00, len(key)]) + key  # identity multihash of an Ed25519 key
    content = bytes([0x12, 0x20]) + hashlib.sha256(b"content").digest()
    addr = bytes.fromhex("047f000001060fa1")  # /ip4/127.0.0.1/tcp/4001
    peer = field(1, peer_id) + field(2, addr) + field(2, bytes.fromhex("2900000000000000000000000000000001060fa2")) + num(3, 1)
    rsa = num(1, 0) + field(2, bytes(64))  # PublicKey{Type=RSA, Data}
    pk_key = b"/pk/" + bytes([0x12, 0x20]) + hashlib.sha256(rsa).digest()
    record = field(1, pk_key) + field(2, rsa) + field(5, b"2026-12-07T06:00:00.000000000Z")
    for name, data in {
        "find-node": frame(num(1, 4) + field(2, peer_id)),
        "find-node-answer": frame(num(1, 4) + field(2, peer_id) + field(8, peer) + field(8, peer)),
        "get-providers-answer": frame(num(1, 3) + field(2, content) + field(8, peer) + field(9, peer) + num(10, 0)),
        "add-provider": frame(num(1, 2) + field(2, content) + field(9, peer)),
        "put-value-pk": frame(field(2, pk_key) + field(3, record)),
        "get-value-then-ping": frame(num(1, 1) + field(2, pk_key)) + frame(num(1, 5)),
        "too-many-peers": frame(num(1, 4) + field(8, peer) * 41),
        "bad-peer-id": frame(num(1, 4) + field(8, field(1, b"\x12\x03abc"))),
        "oversized": varint(16 * 1024 * 1024) + b"\x08\x04",
        "unknown-type": frame(num(1, 9)),
    }.items():
        write("kad", name, data)


if __name__ == "__main__":
    sys.exit(main())
