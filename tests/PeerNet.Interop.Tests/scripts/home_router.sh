#!/bin/sh
# A home network behind a NAT router, for the port-mapping tests: `sh home_router.sh up S` / `sh home_router.sh down S`
# (as root: real network namespaces, `ip netns add`). Three namespaces joined by veth pairs, nothing else:
#   pnhome$S    192.168.77.2/24, default route via the router       (the PeerNet node)
#   pnrouter$S  192.168.77.1/24 on pnr$S (home side), 11.22.33.1/24 on pnw$S (WAN side); forwarding, nftables
#               masquerade out of the WAN, and the empty chains miniupnpd (nftables backend) adds its rules to
#   pninet$S    11.22.33.2/24                                        (a peer on the "internet")
# 11.22.33.0/24 is an ordinary public block: miniupnpd refuses to map behind a private or reserved WAN address, and
# these namespaces reach nothing outside themselves. `down` deletes the namespaces (their veths go with them).
set -eu
action=$1
S=$2
if [ "$action" = down ]; then
    for ns in pnhome$S pnrouter$S pninet$S; do
        ip netns del "$ns" 2>/dev/null || true
    done
    exit 0
fi

ip netns add pnhome$S
ip netns add pnrouter$S
ip netns add pninet$S
ip link add pnh$S type veth peer name pnr$S
ip link set pnh$S netns pnhome$S
ip link set pnr$S netns pnrouter$S
ip link add pnw$S type veth peer name pni$S
ip link set pnw$S netns pnrouter$S
ip link set pni$S netns pninet$S

ip -n pnhome$S link set lo up
ip -n pnhome$S addr add 192.168.77.2/24 dev pnh$S
ip -n pnhome$S link set pnh$S up
ip -n pnhome$S route add default via 192.168.77.1

ip -n pnrouter$S link set lo up
ip -n pnrouter$S addr add 192.168.77.1/24 dev pnr$S
ip -n pnrouter$S link set pnr$S up
ip -n pnrouter$S addr add 11.22.33.1/24 dev pnw$S
ip -n pnrouter$S link set pnw$S up

ip -n pninet$S link set lo up
ip -n pninet$S addr add 11.22.33.2/24 dev pni$S
ip -n pninet$S link set pni$S up

ip netns exec pnrouter$S sysctl -qw net.ipv4.ip_forward=1
# The table and chain names are miniupnpd's defaults (upnp_table_name, upnp_forward_chain, upnp_nat_chain, ...).
ip netns exec pnrouter$S nft -f - <<NFT
table inet filter {
    chain forward {
        type filter hook forward priority 0; policy drop;
        ct state established,related accept
        iifname "pnr$S" accept
        jump miniupnpd
    }
    chain miniupnpd {
    }
    chain prerouting {
        type nat hook prerouting priority -100; policy accept;
        jump prerouting_miniupnpd
    }
    chain postrouting {
        type nat hook postrouting priority 100; policy accept;
        jump postrouting_miniupnpd
        oifname "pnw$S" masquerade
    }
    chain prerouting_miniupnpd {
    }
    chain postrouting_miniupnpd {
    }
}
NFT
echo ready
