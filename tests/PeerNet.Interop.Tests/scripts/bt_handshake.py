"""Connects to HOST PORT, sends a plain BitTorrent handshake for INFO_HASH (40 hex digits) and prints the info-hash of
the handshake that comes back (or fails). The port-mapping tests run it on the "internet" side of a NAT router."""
import socket
import sys

host, port, info_hash = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
with socket.create_connection((host, port), timeout=10) as s:
    s.sendall(b"\x13BitTorrent protocol" + bytes(8) + info_hash + b"-PNTEST-" + bytes(12))
    reply = b""
    while len(reply) < 68:
        chunk = s.recv(68 - len(reply))
        if not chunk:
            sys.exit(f"connection closed after {len(reply)} bytes")
        reply += chunk
if reply[:20] != b"\x13BitTorrent protocol":
    sys.exit("not a BitTorrent handshake")
print(reply[28:48].hex())
