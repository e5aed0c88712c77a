#!/usr/bin/env python3
"""A point-to-point link with delay and loss between two network namespaces, in user space, for bench/datagram.sh on
kernels without sch_netem: each namespace has a persistent TUN device (ip tuntap add); this process attaches to both
(setns into each to open it), reads every IP packet one side sends, drops it with probability LOSS, and writes it to
the other side DELAY ms later (plus a normally distributed JITTER, never reordering a direction, as netem with a rate).

  tun_link.py NS_A TUN_A NS_B TUN_B --delay MS [--jitter MS] [--loss PERCENT] [--seconds S]

Prints "ready" once attached and its counters when it ends (SIGTERM, SIGINT or after S seconds)."""
import argparse
import ctypes
import fcntl
import heapq
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {path}")
    finally:
        os.close(fd)


def open_tun(namespace, name):
    setns(f"/var/run/netns/{namespace}")
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    p = argparse.ArgumentParser()
    p.add_argument("ns_a")
    p.add_argument("tun_a")
    p.add_argument("ns_b")
    p.add_argument("tun_b")
    p.add_argument("--delay", type=float, required=True, help="one-way delay, ms, each direction")
    p.add_argument("--jitter", type=float, default=0.0, help="standard deviation of the delay, ms")
    p.add_argument("--loss", type=float, default=0.0, help="percent of packets dropped, each direction")
    p.add_argument("--seconds", type=float, default=600.0)
    a = p.parse_args()

    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    fa = open_tun(a.ns_a, a.tun_a)
    fb = open_tun(a.ns_b, a.tun_b)
    libc.setns(home, CLONE_NEWNET)
    other = {fa: fb, fb: fa}
    last_due = {fa: 0.0, fb: 0.0}
    counts = {"forwarded": 0, "dropped": 0}
    queue = []  # (due, order, fd to write, packet)
    order = 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    end = time.monotonic() + a.seconds
    print("ready", flush=True)
    while not stop and time.monotonic() < end:
        now = time.monotonic()
        timeout = max(0.0, queue[0][0] - now) if queue else 0.05
        try:
            readable, _, _ = select.select([fa, fb], [], [], min(timeout, 0.05))
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd in readable:
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if random.random() * 100 < a.loss:
                    counts["dropped"] += 1
                    continue
                delay = max(0.0, random.gauss(a.delay, a.jitter) if a.jitter > 0 else a.delay) / 1000
                due = max(now + delay, last_due[fd])
                last_due[fd] = due
                order += 1
                heapq.heappush(queue, (due, order, other[fd], packet))
        while queue and queue[0][0] <= time.monotonic():
            _, _, fd, packet = heapq.heappop(queue)
            try:
                os.write(fd, packet)
                counts["forwarded"] += 1
            except OSError:
                counts["dropped"] += 1
    print(f"link: {counts['forwarded']} packets forwarded, {counts['dropped']} dropped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
