using PeerNet.Metainfo;

namespace PeerNet.Codecs.Tests.Metainfo;

/// <summary>Regression tests for the defects found reviewing the parser; each failed before its fix.</summary>
public sealed class MetainfoReviewTests
{
    private const int Kib16 = 16384;

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(long.MaxValue - Kib16 + 2)]
    public void V2_HugeFile_IsOverThePieceLimit_NotWrappedToAFewPieces(long length)
    {
        // (size + pieceLength - 1) overflowed: a v2 file of 2^63-1 bytes parsed as a 1-piece torrent whose file
        // ended in piece -1.
        TorrentBuilder b = TorrentBuilder.V2Single("huge", 10);
        b.V2Leaves["huge"]["length"] = BValue.Int(length);
        b.RefuseAt(MetainfoErrorCode.LimitExceeded, b.Info);
    }

    [Fact]
    public void V1_HugeFile_IsOverThePieceLimit()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("huge", 10);
        b.Info["length"] = BValue.Int(long.MaxValue);
        b.RefuseAt(MetainfoErrorCode.LimitExceeded, b.Info);
    }
}
