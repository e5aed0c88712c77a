// A js-libp2p peer driven over stdin/stdout by PeerNet's interop tests: one JSON object per line each way.
// Start: node peer.mjs [--listen MULTIADDR] (--probe: print the versions and exit)  ->  {"event":"ready","peerId":"12D3...","addrs":["/ip4/127.0.0.1/tcp/N/p2p/..."]}
// Commands (stdin): {"id":N,"cmd":"dial"|"ping"|"identify"|"peers"|"subscribe"|"publish"|"findPeer"|"provide"|"findProviders"|"putValue"|"getValue"|"routingTable"|"stop", ...}
// Each command is answered with {"id":N,"ok":true,...} or {"id":N,"ok":false,"error":"..."}; events arrive unasked.
import { createInterface } from 'node:readline'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, identifyPush } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { gossipsub } from '@libp2p/gossipsub'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

const args = process.argv.slice(2)
if (args.includes('--probe')) { // the tests' availability check: every import above resolved
  const { createRequire } = await import('node:module')
  const version = createRequire(import.meta.url)('./node_modules/libp2p/package.json').version
  console.log(`js-libp2p ${version} node ${process.version}`)
  process.exit(0)
}
const listen = args.includes('--listen') ? args[args.indexOf('--listen') + 1] : '/ip4/127.0.0.1/tcp/0'
const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n')

const node = await createLibp2p({
  addresses: { listen: [listen] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionGater: { denyDialMultiaddr: () => false },
  services: {
    identify: identify(),
    identifyPush: identifyPush(),
    ping: ping({ maxOutboundStreams: 8 }), // libp2p 3's connection monitor pings on the same protocol; the default 1 races our ping
    dht: kadDHT({ protocol: '/ipfs/kad/1.0.0', clientMode: false, peerInfoMapper: passthroughMapper, allowQueryWithZeroPeers: true }),
    pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false })
  }
})

node.addEventListener('peer:identify', (e) => emit({
  event: 'identify', peerId: e.detail.peerId.toString(), protocols: e.detail.protocols,
  agentVersion: e.detail.agentVersion, protocolVersion: e.detail.protocolVersion,
  listenAddrs: e.detail.listenAddrs.map(String), observedAddr: e.detail.observedAddr?.toString()
}))
node.addEventListener('peer:connect', (e) => emit({ event: 'connect', peerId: e.detail.toString() }))
node.addEventListener('peer:disconnect', (e) => emit({ event: 'disconnect', peerId: e.detail.toString() }))
node.services.pubsub.addEventListener('message', (e) => emit({
  event: 'message', topic: e.detail.topic, from: e.detail.from?.toString(), data: new TextDecoder().decode(e.detail.data)
}))

const target = (c) => c.addr ? multiaddr(c.addr) : peerIdFromString(c.peer)
const keyCid = async (text) => CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(text)))
const deadline = (c) => ({ signal: AbortSignal.timeout(c.timeoutMs ?? 15000) })

async function run (c) {
  switch (c.cmd) {
    case 'dial': { const conn = await node.dial(target(c), deadline(c)); return { peerId: conn.remotePeer.toString(), remoteAddr: conn.remoteAddr.toString() } }
    case 'ping': return { rttMs: await node.services.ping.ping(target(c), deadline(c)) }
    case 'peers': return { peers: node.getPeers().map(String) }
    case 'protocols': { const p = await node.peerStore.get(peerIdFromString(c.peer)); return { protocols: p.protocols, addrs: p.addresses.map(a => a.multiaddr.toString()) } }
    case 'subscribe': node.services.pubsub.subscribe(c.topic); return {}
    case 'publish': { const r = await node.services.pubsub.publish(c.topic, new TextEncoder().encode(c.data)); return { recipients: r.recipients.map(String) } }
    case 'meshPeers': return { peers: node.services.pubsub.getMeshPeers(c.topic).map(String), subscribers: node.services.pubsub.getSubscribers(c.topic).map(String) }
    case 'findPeer': { const p = await node.peerRouting.findPeer(peerIdFromString(c.peer), deadline(c)); return { peerId: p.id.toString(), addrs: p.multiaddrs.map(String) } }
    case 'closestPeers': { const out = []; for await (const p of node.peerRouting.getClosestPeers(new TextEncoder().encode(c.key), deadline(c))) out.push(p.id.toString()); return { peers: out } }
    case 'provide': await node.contentRouting.provide(await keyCid(c.key), deadline(c)); return {}
    case 'findProviders': { const out = []; for await (const p of node.contentRouting.findProviders(await keyCid(c.key), deadline(c))) { out.push({ peerId: p.id.toString(), addrs: p.multiaddrs.map(String) }); if (c.first) break } return { providers: out } }
    case 'routingTable': return { peers: [...node.services.dht.routingTable.kb.toIterable()].map(p => p.peerId.toString()) }
    case 'putValue': await node.contentRouting.put(Buffer.from(c.keyHex, 'hex'), Buffer.from(c.valueHex, 'hex'), deadline(c)); return {}
    case 'getValue': return { valueHex: Buffer.from(await node.contentRouting.get(Buffer.from(c.keyHex, 'hex'), deadline(c))).toString('hex') }
    case 'stop': await node.stop(); emit({ id: c.id, ok: true }); process.exit(0)
    default: throw new Error(`unknown command ${c.cmd}`)
  }
}

const rl = createInterface({ input: process.stdin })
rl.on('line', async (line) => {
  let c
  try { c = JSON.parse(line) } catch { emit({ ok: false, error: 'not JSON' }); return }
  try { emit({ id: c.id, ok: true, ...(await run(c)) }) } catch (err) { emit({ id: c.id, ok: false, error: String(err?.message ?? err) }) }
})
rl.on('close', async () => { await node.stop(); process.exit(0) })

emit({ event: 'ready', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) })
