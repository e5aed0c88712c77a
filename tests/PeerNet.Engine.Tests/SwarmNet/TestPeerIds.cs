using System.Security.Cryptography;
using PeerNet.PeerWire;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>Peer ids for hand-driven peers: unique, as real clients' are (a node keeps one connection per peer id).</summary>
internal static class TestPeerIds
{
    /// <summary>A copy of a handshake (and whatever follows it) with a fresh peer id in it.</summary>
    public static byte[] WithNewPeerId(byte[] handshake)
    {
        byte[] copy = (byte[])handshake.Clone();
        Next().CopyTo(copy.AsSpan(Handshake.Length - PeerId.Length, PeerId.Length));
        return copy;
    }

    public static PeerId Next()
    {
        Span<byte> id = stackalloc byte[PeerId.Length];
        "-XX0000-"u8.CopyTo(id);
        RandomNumberGenerator.Fill(id[8..]);
        return new PeerId(id);
    }
}
