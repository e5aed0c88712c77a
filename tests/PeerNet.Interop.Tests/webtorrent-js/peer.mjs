// A WebTorrent 3 peer that speaks BitTorrent over uTP only, for PeerNet's interop tests. Its uTP is utp-native,
// bindings to libutp (BitTorrent Inc.'s C implementation). One JSON object per line on stdout.
//
//   node peer.mjs --probe                                     versions; exits 1 when uTP is not available
//   node peer.mjs seed TORRENT DIR                            checks DIR/<name> against TORRENT, then seeds it
//                                                             (writing the zeros of BEP 47 pad files there first)
//   node peer.mjs get TORRENT DIR --peer HOST:PORT            downloads into DIR from that peer
//
// TCP is off both ways: the TCP listener WebTorrent opens (its uTP socket takes the same port number) is closed once
// the uTP socket listens, and net.connect (WebTorrent's only TCP dialer, its fallback when a uTP connect fails) fails
// every call and counts it. DHT, LSD, trackers, web seeds, UPnP and NAT-PMP are off, so the only peer is the one given.
//
// Events: {"event":"ready","port":N,"tcpListening":false} (seed: once the data is verified), {"event":"wire",...} for
// each connection, {"event":"done",...} (get: every piece verified). On stdin "report" prints {"event":"report",...};
// closing stdin stops the peer. Every report lists the connections ({type, addr, downloaded, uploaded}) and the TCP
// dials refused.
import net from 'node:net'
import fs from 'node:fs'
import { createInterface } from 'node:readline'
import { createRequire } from 'node:module'
import path from 'node:path'

const require = createRequire(import.meta.url)
const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n')
const args = process.argv.slice(2)

let tcpDialsRefused = 0
net.connect = net.createConnection = (...a) => { // WebTorrent's outgoing TCP: refused, so nothing falls back to TCP
  tcpDialsRefused++
  const socket = new net.Socket()
  process.nextTick(() => socket.destroy(new Error('TCP is off in this peer (uTP only)')))
  return socket
}

const { default: WebTorrent } = await import('webtorrent')
const { default: parseTorrent } = await import('parse-torrent')
const versions = {
  webtorrent: WebTorrent.VERSION,
  utpNative: require('utp-native/package.json').version,
  node: process.version
}

if (args[0] === '--probe') {
  console.log(`webtorrent ${versions.webtorrent} utp-native ${versions.utpNative} node ${versions.node} utp ${WebTorrent.UTP_SUPPORT}`)
  process.exit(WebTorrent.UTP_SUPPORT ? 0 : 1)
}

const [mode, torrentPath, dir] = args
if (!['seed', 'get'].includes(mode) || !torrentPath || !dir) {
  console.error('usage: peer.mjs --probe | seed TORRENT DIR | get TORRENT DIR --peer HOST:PORT')
  process.exit(2)
}
const peer = args.includes('--peer') ? args[args.indexOf('--peer') + 1] : null

const client = new WebTorrent({
  utp: true,
  dht: false,
  lsd: false,
  tracker: false,
  webSeeds: false,
  natUpnp: false,
  natPmp: false,
  torrentPort: 0
})
client.on('error', (err) => { emit({ event: 'error', error: String(err?.message ?? err) }); process.exit(1) })

// Stdin from the start, so that closing it stops the peer even while it still checks its data.
let torrent = null
const input = createInterface({ input: process.stdin })
input.on('line', (line) => { if (line.trim() === 'report') report('report', torrent) })
input.on('close', () => {
  setTimeout(() => process.exit(0), 2000)
  client.destroy(() => process.exit(0))
})

const wires = []
const describe = (w) => ({ type: w.type, addr: w.remoteAddress ? `${w.remoteAddress}:${w.remotePort}` : null, downloaded: w.downloaded, uploaded: w.uploaded })
const report = (event, torrent, extra = {}) => emit({
  event,
  ...extra,
  versions,
  tcpDialsRefused,
  tcpListening: Boolean(client._connPool?.tcpServer?.listening),
  downloaded: torrent?.downloaded ?? 0,
  uploaded: torrent?.uploaded ?? 0,
  wires: wires.map(describe)
})

// WebTorrent knows nothing of BEP 47 pad files (a hybrid torrent's, attr "p"): it reads and writes them as real files.
// To seed, it needs them on disk, zeros as BEP 47 says; they are written beside the content if missing.
function writePadFiles (parsed) {
  const multi = Array.isArray(parsed.info.files)
  for (const file of multi ? parsed.info.files : []) {
    if (!file.attr || !Buffer.from(file.attr).toString().includes('p')) continue
    const where = path.join(dir, parsed.name, ...file.path.map((p) => Buffer.from(p).toString()))
    if (fs.existsSync(where)) continue
    fs.mkdirSync(path.dirname(where), { recursive: true })
    fs.writeFileSync(where, Buffer.alloc(file.length))
  }
}

await new Promise((resolve) => client.once('listening', resolve))
const pool = client._connPool
if (!pool?.utpServer) {
  emit({ event: 'error', error: 'WebTorrent has no uTP server (utp-native did not load)' })
  process.exit(1)
}
pool.tcpServer.close() // TCP listener off: the uTP socket keeps the port number
const port = pool.utpServer.address().port

const torrentFile = fs.readFileSync(torrentPath)
if (mode === 'seed') writePadFiles(await parseTorrent(torrentFile))
torrent = client.add(torrentFile, { path: dir, announce: [], private: false })
torrent.on('error', (err) => { emit({ event: 'error', error: String(err?.message ?? err) }); process.exit(1) })
torrent.on('wire', (wire, addr) => {
  wires.push(wire)
  emit({ event: 'wire', type: wire.type, addr })
})

await new Promise((resolve) => torrent.once('ready', resolve))
if (mode === 'seed') {
  if (!torrent.done) await new Promise((resolve) => torrent.once('done', resolve)) // the data is verified on add
  report('ready', torrent, { port, infoHash: torrent.infoHash, pieces: torrent.pieces.length })
} else {
  report('ready', torrent, { port, infoHash: torrent.infoHash, pieces: torrent.pieces.length })
  torrent.once('done', () => report('done', torrent)) // WebTorrent checked each piece's SHA-1 as it came
  if (peer) torrent.addPeer(peer)
}

