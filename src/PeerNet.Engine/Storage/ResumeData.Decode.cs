using System.Diagnostics.CodeAnalysis;
using PeerNet.Bencode;

namespace PeerNet.Storage;

internal sealed partial class ResumeData
{
    /// <summary>
    /// Decodes resume data, refusing anything malformed or larger than a torrent of <paramref name="maxFiles"/>
    /// files and <paramref name="maxPieces"/> pieces could need. Never throws on bad input: returns false and a
    /// reason.
    /// </summary>
    public static bool TryDecode(ReadOnlyMemory<byte> data, int maxFiles, int maxPieces, [NotNullWhen(true)] out ResumeData? resume, [NotNullWhen(false)] out string? error)
    {
        resume = null;
        var limits = new BencodeLimits
        {
            MaxDepth = 3,
            MaxTokens = 64 + (5 * maxFiles),
            MaxStringLength = Math.Max(64, (maxPieces + 7) / 8),
        };
        if (!BencodeDocument.TryParse(data, out BencodeDocument? document, out BencodeError bencodeError, limits))
        {
            error = "not valid bencode: " + bencodeError.Message;
            return false;
        }

        using (document)
        {
            return TryRead(document.Root, maxFiles, maxPieces, out resume, out error);
        }
    }

    private static bool TryRead(BencodeNode root, int maxFiles, int maxPieces, [NotNullWhen(true)] out ResumeData? resume, [NotNullWhen(false)] out string? error)
    {
        resume = null;
        if (!root.IsDictionary)
        {
            return Fail("the root is not a dictionary", out error);
        }

        if (!root["format"u8].StringEquals("peernet-resume"u8))
        {
            return Fail("'format' is not 'peernet-resume'", out error);
        }

        if (!root["version"u8].TryGetInt64(out long version) || version != CurrentVersion)
        {
            return Fail($"'version' is missing or not {CurrentVersion}", out error);
        }

        BencodeNode h1 = root["info-hash"u8];
        BencodeNode h2 = root["info-hash2"u8];
        if ((h1.Exists && (!h1.IsString || h1.StringSpan.Length != Sha1Hash.Length))
            || (h2.Exists && (!h2.IsString || h2.StringSpan.Length != Sha256Hash.Length))
            || (!h1.Exists && !h2.Exists))
        {
            return Fail("the info-hashes are missing or malformed", out error);
        }

        var hashes = new InfoHashes(h1.Exists ? new Sha1Hash(h1.StringSpan) : null, h2.Exists ? new Sha256Hash(h2.StringSpan) : null);
        if (!root["piece length"u8].TryGetInt64(out long pieceLength) || pieceLength <= 0)
        {
            return Fail("'piece length' is missing or not positive", out error);
        }

        if (!root["piece count"u8].TryGetInt64(out long pieceCount) || pieceCount < 0 || pieceCount > maxPieces)
        {
            return Fail($"'piece count' is missing or outside 0 to {maxPieces}", out error);
        }

        BencodeNode pieces = root["pieces"u8];
        if (!pieces.IsString || !PieceBitfield.TryFromBytes(pieces.StringSpan, (int)pieceCount, out PieceBitfield? bitfield))
        {
            return Fail($"'pieces' is not a bitfield of {pieceCount} pieces", out error);
        }

        BencodeNode list = root["files"u8];
        if (!list.IsList)
        {
            return Fail("'files' is not a list", out error);
        }

        var files = new List<ResumeFileState>();
        foreach (BencodeNode entry in list.Items)
        {
            if (files.Count >= maxFiles)
            {
                return Fail($"more than {maxFiles} files", out error);
            }

            if (!entry["length"u8].TryGetInt64(out long length) || length < -1 || !entry["mtime-ns"u8].TryGetInt64(out long mtime))
            {
                return Fail($"file {files.Count} has no valid 'length' and 'mtime-ns'", out error);
            }

            files.Add(new ResumeFileState(length, mtime));
        }

        long saved = root["saved"u8].TryGetInt64(out long s) ? Math.Clamp(s, 0, 253402300799) : 0;
        resume = new ResumeData
        {
            InfoHashes = hashes,
            PieceLength = pieceLength,
            Pieces = bitfield,
            Files = files,
            SavedAt = DateTimeOffset.FromUnixTimeSeconds(saved),
        };
        error = null;
        return true;
    }

    private static bool Fail(string message, out string error)
    {
        error = message;
        return false;
    }
}
