#!/bin/sh
# Holds a private network namespace for the LSD tests: run as `unshare -rn sh netns_holder.sh` (a new user and
# network namespace; works unprivileged where user namespaces are allowed). Brings up loopback with multicast on and
# routes the IPv4 LSD group (239.192.152.143, in 239.0.0.0/8) through it, so multicast never leaves the namespace;
# then prints "ready PID" (what nsenter --target takes) and waits until stdin closes.
set -eu
ip link set lo up
ip link set lo multicast on
ip route add 239.0.0.0/8 dev lo src 127.0.0.1
echo "ready $$"
cat >/dev/null
