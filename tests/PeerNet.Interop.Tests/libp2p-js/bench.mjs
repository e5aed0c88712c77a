// js-libp2p's side of bench/libp2p.sh (the same command line as `PeerNet.Benchmarks libp2p ...`); one JSON line out.
//   node bench.mjs serve                               -> {"event":"ready","addrs":[...]}; serves /peernet/bench/1.0.0 until stdin closes
//   node bench.mjs handshakes ADDR SECONDS DIALERS     -> {"count":N,"seconds":S,"perSecond":R}: full dials (TCP, multistream,
//                                                         Noise XX, yamux), each closed at once, DIALERS nodes dialling in a loop
//   node bench.mjs stream ADDR STREAMS BYTES           -> {"bytes":B,"seconds":S,"mbPerSecond":R}: one connection, STREAMS
//                                                         streams at once each sending BYTES (64 KiB writes) and waiting for the count
// The bench protocol: the dialer writes its bytes and closes its side; the listener reads to the end and answers with
// the count as 8 bytes big-endian, then closes.
import { createInterface } from 'node:readline'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { multiaddr } from '@multiformats/multiaddr'

const PROTOCOL = '/peernet/bench/1.0.0'
const CHUNK = 64 * 1024
const STREAM_LIMITS = { maxInboundStreams: 1024, maxOutboundStreams: 1024 }

// A node as an application would start it (identify and ping on), with the inbound rate limit (5 connections a
// second per host by default) and the pending-connection cap lifted: the bench dials from one address on purpose.
const start = (listen) => createLibp2p({
  addresses: { listen: listen ? [listen] : [] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionGater: { denyDialMultiaddr: () => false },
  connectionManager: { inboundConnectionThreshold: 1_000_000, maxIncomingPendingConnections: 1000, maxConnections: 100_000 },
  services: { identify: identify(), ping: ping() }
})

const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n')

async function serve () {
  const node = await start('/ip4/127.0.0.1/tcp/0')
  await node.handle(PROTOCOL, async (stream) => {
    let count = 0
    for await (const chunk of stream) count += chunk.byteLength
    const answer = new Uint8Array(8)
    new DataView(answer.buffer).setBigUint64(0, BigInt(count))
    stream.send(answer)
    await stream.close()
  }, STREAM_LIMITS)
  emit({ event: 'ready', addrs: node.getMultiaddrs().map(String) })
  const rl = createInterface({ input: process.stdin })
  rl.on('line', () => {})
  rl.on('close', async () => { await node.stop(); process.exit(0) })
}

async function handshakes (addr, seconds, dialers) {
  const target = multiaddr(addr)
  const nodes = await Promise.all(Array.from({ length: dialers }, () => start()))
  const dialOnce = async (node) => { const c = await node.dial(target, { force: true }); await c.close() }
  for (const node of nodes) for (let i = 0; i < 10; i++) await dialOnce(node) // warm-up
  let count = 0
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  await Promise.all(nodes.map(async (node) => {
    while (performance.now() < end) { await dialOnce(node); count++ }
  }))
  const elapsed = (performance.now() - t0) / 1000
  await Promise.all(nodes.map((n) => n.stop()))
  emit({ count, seconds: elapsed, perSecond: count / elapsed })
}

async function send (connection, bytes) {
  const stream = await connection.newStream(PROTOCOL, STREAM_LIMITS)
  const chunk = new Uint8Array(CHUNK).fill(0x5a)
  for (let sent = 0; sent < bytes; sent += CHUNK) {
    if (!stream.send(chunk.subarray(0, Math.min(CHUNK, bytes - sent)))) await stream.onDrain()
  }
  await stream.close()
  const answer = []
  for await (const c of stream) answer.push(c.subarray())
  const reply = Buffer.concat(answer)
  if (reply.length !== 8 || reply.readBigUInt64BE(0) !== BigInt(bytes)) throw new Error(`the listener counted ${reply.toString('hex')}, not ${bytes}`)
}

async function streams (addr, count, bytes) {
  const node = await start()
  const connection = await node.dial(multiaddr(addr))
  await send(connection, 4 * 1024 * 1024) // warm-up
  const t0 = performance.now()
  await Promise.all(Array.from({ length: count }, () => send(connection, bytes)))
  const elapsed = (performance.now() - t0) / 1000
  await node.stop()
  const total = count * bytes
  emit({ bytes: total, seconds: elapsed, mbPerSecond: total / 1e6 / elapsed })
}

const [mode, ...rest] = process.argv.slice(2)
try {
  if (mode === 'serve') await serve()
  else if (mode === 'handshakes') { await handshakes(rest[0], Number(rest[1]), Number(rest[2])); process.exit(0) }
  else if (mode === 'stream') { await streams(rest[0], Number(rest[1]), Number(rest[2])); process.exit(0) }
  else { console.error('usage: node bench.mjs serve | handshakes ADDR SECONDS DIALERS | stream ADDR STREAMS BYTES'); process.exit(2) }
} catch (err) {
  console.error(err)
  process.exit(1)
}
