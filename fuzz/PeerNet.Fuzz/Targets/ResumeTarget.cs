using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="ResumeData.TryDecode"/>, under a small torrent's limits and under the largest torrent's: decoded
/// data stays within the limits, and encodes (<see cref="ResumeData.Encode"/>) to bytes that decode to the
/// same data and encode to the same bytes again.
/// </summary>
public static class ResumeTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        byte[] input = data.ToArray();
        Decode(input, 4, 64);
        Decode(input, MetainfoLimits.Default.MaxFiles, MetainfoLimits.Default.MaxPieces);
    }

    private static void Decode(byte[] input, int maxFiles, int maxPieces)
    {
        if (!ResumeData.TryDecode(input, maxFiles, maxPieces, out ResumeData? resume, out string? error))
        {
            Check.That(!string.IsNullOrEmpty(error), "refused with no error");
            return;
        }

        Check.That(resume.Files.Count <= maxFiles, $"{resume.Files.Count} files over the limit {maxFiles}");
        Check.That(resume.Pieces.Count <= maxPieces, $"{resume.Pieces.Count} pieces over the limit {maxPieces}");
        Check.That(resume.PieceLength > 0, $"piece length {resume.PieceLength}");
        Check.That(resume.Files.All(f => f.Length >= -1), "a file length below -1");

        byte[] encoded = resume.Encode();
        Check.That(ResumeData.TryDecode(encoded, maxFiles, maxPieces, out ResumeData? again, out string? againError), $"its own encoding is refused: {againError}");
        Check.Equal(resume.InfoHashes, again.InfoHashes, "info-hashes");
        Check.Equal(resume.PieceLength, again.PieceLength, "piece length");
        Check.Equal(resume.SavedAt, again.SavedAt, "saved at");
        Check.SequenceEqual(resume.Files, again.Files, "files");
        Check.SequenceEqual(resume.Pieces.ToBoolArray(), again.Pieces.ToBoolArray(), "pieces");
        Check.Bytes(encoded, again.Encode(), "second encoding");
    }
}
