"""Many TCP connections from one source address, each starting an MSE handshake with garbage, for the MSE flood test.

    python3 mse_flood.py HOST PORT SOURCE COUNT SECONDS

Opens COUNT connections to HOST:PORT from SOURCE (a local address, e.g. 127.0.0.2), each sending 96 random bytes
(what an MSE initiator's Diffie-Hellman key Ya looks like) and 64 of random padding, then never the rest. Watches them
for SECONDS seconds: a connection the node closes (EOF or reset) is counted with the time it was closed. Prints one
JSON line: opened, connect failures, closed within 1 s (refused at once), still open at 1 s, the most open at once
after 1 s, closed by the end and the latest close (s), and the bytes the node sent on all of them.
"""
import json
import os
import select
import socket
import sys
import time


def main():
    host, port, source, count, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    start = time.monotonic()
    open_sockets = {}
    failures = 0
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((source, 0))
        sock.settimeout(5)
        try:
            sock.connect((host, port))
            sock.sendall(os.urandom(96 + 64))
            sock.setblocking(False)
            open_sockets[sock] = time.monotonic()
        except OSError:
            failures += 1
            sock.close()
    opened = len(open_sockets)
    closed_at = []
    received = 0
    most_after_first_second = 0
    open_at_one_second = None
    while time.monotonic() - start < seconds and open_sockets:
        readable, _, _ = select.select(list(open_sockets), [], [], 0.05)
        for sock in readable:
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if data:
                received += len(data)
                continue
            closed_at.append(time.monotonic() - start)
            del open_sockets[sock]
            sock.close()
        elapsed = time.monotonic() - start
        if elapsed >= 1.0:
            if open_at_one_second is None:
                open_at_one_second = len(open_sockets)
            most_after_first_second = max(most_after_first_second, len(open_sockets))
    for sock in open_sockets:
        sock.close()
    print(json.dumps({
        "opened": opened,
        "connectFailures": failures,
        "closedWithinOneSecond": sum(1 for t in closed_at if t < 1.0),
        "openAtOneSecond": open_at_one_second if open_at_one_second is not None else len(open_sockets),
        "mostOpenAfterOneSecond": most_after_first_second,
        "closed": len(closed_at),
        "lastClosed": round(max(closed_at), 2) if closed_at else None,
        "bytesReceived": received,
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
