using System.Globalization;
using System.Text;

namespace PeerNet.Swarm;

internal sealed partial class TorrentSwarm
{
    /// <summary>
    /// A best-effort description of the loop's state for diagnosing a stalled transfer (read without the
    /// loop's cooperation, so it may be slightly inconsistent).
    /// </summary>
    internal string DescribeState()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"state {State} have {_have.SetCount}/{PieceCount} picker remaining {_picker.Remaining} partial {_picker.PartialCount} endgame {_picker.InEndgame} hashing {_pieceWriter.HashingCount} buffers {_pieceWriter.BufferCount} banned {_bans.Count} found by DHT {DhtPeersFound} by LSD {LsdPeersFound}\n");
        foreach (PieceBuffer b in _pieceWriter.GetBuffers())
        {
            sb.Append(CultureInfo.InvariantCulture, $"  buffer piece {b.Piece}: {(_picker.IsPartial(b.Piece) ? "in progress" : "not started")}, {b.BlockCount} blocks\n");
        }

        foreach (PeerConnection p in _peerSet.Connected.ToArray())
        {
            sb.Append(CultureInfo.InvariantCulture, $"  peer {p.Id} {p.RemoteEndPoint}: amChoking {p.AmChoking} amInterested {p.AmInterested} peerChoking {p.PeerChoking} peerInterested {p.PeerInterested} seed {p.IsSeed} inPicker {p.InPicker} outstanding {p.Outstanding} snubbed {p.IsSnubbed} closed {p.IsClosed}\n");
        }

        return sb.ToString();
    }
}
