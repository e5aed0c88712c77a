// WebRTC is not available in PeerNet's interop peer: every constructor says so if anything ever reaches it.
class Unavailable {
  constructor () {
    throw new Error('node-datachannel is stubbed out in tests/PeerNet.Interop.Tests/webtorrent-js: no WebRTC')
  }
}

export class PeerConnection extends Unavailable {}
export class RtcpReceivingSession extends Unavailable {}
export class Video extends Unavailable {}
export class Audio extends Unavailable {}
export function cleanup () {}
export default { PeerConnection, RtcpReceivingSession, Video, Audio, cleanup }
