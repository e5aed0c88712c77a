#!/usr/bin/env python3
"""A bulk TCP flow for the LEDBAT test (UtpPathTests, bench/utp_ledbat.sh).

    tcp_bulk.py serve HOST PORT [CC]   prints "ready", then sends zeros to each client as fast as TCP takes them
    tcp_bulk.py fetch HOST PORT        connects and reads until killed (or the server leaves)

The sender's congestion control is CC (default cubic, the loss-based flow LEDBAT is meant to yield to), set on its
socket: the machine's default may be another (this one's is bbr, which keeps the bottleneck's queue short, so a delay
target of 100 ms is never reached and LEDBAT does not yield to it).
"""
import socket
import sys
import threading


def pump(client):
    block = bytes(65536)
    try:
        while True:
            client.sendall(block)
    except OSError:
        pass
    finally:
        client.close()


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "serve":
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit the listener's congestion control.
        server.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, (sys.argv[4] if len(sys.argv) > 4 else "cubic").encode())
        server.bind((host, port))
        server.listen(4)
        print("ready", flush=True)
        while True:
            client, _ = server.accept()
            threading.Thread(target=pump, args=(client,), daemon=True).start()
    elif mode == "fetch":
        connection = socket.create_connection((host, port))
        print("connected", flush=True)
        while connection.recv(1 << 20):
            pass
    else:
        sys.exit("usage: tcp_bulk.py serve|fetch HOST PORT")


if __name__ == "__main__":
    main()
