#!/bin/sh
# Two home networks, each behind its own NAT router, and the "internet" between them, for the BEP 55 holepunch test:
# `sh two_homes.sh up S` / `sh two_homes.sh down S` (as root: real network namespaces). Five namespaces, veth pairs:
#   pnha$S   192.168.71.2/24, default via 192.168.71.1                       (peer A)
#   pnra$S   192.168.71.1/24 on pnar$S (home side), WAN 11.22.33.1/24 on pnaw$S; default via 11.22.33.2
#   pnhb$S   192.168.72.2/24, default via 192.168.72.1                       (peer B)
#   pnrb$S   192.168.72.1/24, WAN 44.55.66.1/24 on pnbw$S; default via 44.55.66.2
#   pnin$S   11.22.33.2/24 and 44.55.66.2/24, forwarding between them         (the relay, "on the internet")
# Each router: nftables masquerade out of its WAN (Linux keeps the source port when it can: one UDP socket keeps one
# external port whatever it sends to, endpoint-independent mapping), forwarding of replies only (established,
# related), and unsolicited packets to the WAN address dropped without an answer (no ICMP, and no conntrack entry
# left behind that would make the NAT pick another port later): a home router's usual behaviour. No port mapping.
# `down` deletes the namespaces (their veths go with them).
set -eu
action=$1
S=$2
if [ "$action" = down ]; then
    for ns in pnha$S pnra$S pnhb$S pnrb$S pnin$S; do
        ip netns del "$ns" 2>/dev/null || true
    done
    exit 0
fi

ip netns add pnin$S
ip -n pnin$S link set lo up
ip netns exec pnin$S sysctl -qw net.ipv4.ip_forward=1

# home X ($1: a or b), home subnet $2, WAN address $3, internet side of the WAN link $4
home() {
    X=$1; NET=$2; WAN=$3; INET=$4
    ip netns add pnh$X$S
    ip netns add pnr$X$S
    ip link add pn${X}h$S type veth peer name pn${X}r$S
    ip link set pn${X}h$S netns pnh$X$S
    ip link set pn${X}r$S netns pnr$X$S
    ip link add pn${X}w$S type veth peer name pn${X}i$S
    ip link set pn${X}w$S netns pnr$X$S
    ip link set pn${X}i$S netns pnin$S

    ip -n pnh$X$S link set lo up
    ip -n pnh$X$S addr add $NET.2/24 dev pn${X}h$S
    ip -n pnh$X$S link set pn${X}h$S up
    ip -n pnh$X$S route add default via $NET.1

    ip -n pnr$X$S link set lo up
    ip -n pnr$X$S addr add $NET.1/24 dev pn${X}r$S
    ip -n pnr$X$S link set pn${X}r$S up
    ip -n pnr$X$S addr add $WAN/24 dev pn${X}w$S
    ip -n pnr$X$S link set pn${X}w$S up
    ip -n pnr$X$S route add default via $INET
    ip netns exec pnr$X$S sysctl -qw net.ipv4.ip_forward=1

    ip -n pnin$S addr add $INET/24 dev pn${X}i$S
    ip -n pnin$S link set pn${X}i$S up

    ip netns exec pnr$X$S nft -f - <<NFT
table inet nat {
    chain forward {
        type filter hook forward priority 0; policy drop;
        ct state established,related accept
        iifname "pn${X}r$S" accept
    }
    chain input {
        type filter hook input priority 0; policy accept;
        iifname "pn${X}w$S" ct state new counter drop
    }
    chain postrouting {
        type nat hook postrouting priority 100; policy accept;
        oifname "pn${X}w$S" masquerade
    }
}
NFT
}

home a 192.168.71 11.22.33.1 11.22.33.2
home b 192.168.72 44.55.66.1 44.55.66.2
echo ready
