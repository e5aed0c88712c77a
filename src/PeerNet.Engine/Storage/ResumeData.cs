using System.Buffers;
using PeerNet.Bencode;

namespace PeerNet.Storage;

/// <summary>
/// One file as it was on disk when resume data was saved: <see cref="Length"/> is -1 when there was no file
/// (or the torrent stores none: pad files, empty files, symlinks); <see cref="ModifiedNs"/> is its modification
/// time in nanoseconds since the Unix epoch (at the file system's precision, 100 ns in .NET).
/// </summary>
internal readonly record struct ResumeFileState(long Length, long ModifiedNs)
{
    /// <summary>The state of a file that is not on disk.</summary>
    public static ResumeFileState Absent => new(-1, 0);

    /// <summary>The state recorded for <paramref name="status"/>.</summary>
    public static ResumeFileState From(FileStatus status)
        => status.Exists ? new ResumeFileState(status.Length, (status.LastWriteUtc.ToUniversalTime() - DateTime.UnixEpoch).Ticks * 100) : Absent;
}

/// <summary>
/// What a torrent had verified when it last stopped, so the next start can skip the full check. Bencoded as
/// <c>{files: [{length, mtime-ns}], format: "peernet-resume", info-hash, info-hash2, piece count, piece length,
/// pieces: bitfield, saved, version: 1}</c>. <see cref="ResumeStore"/> decides how much of it to trust.
/// </summary>
internal sealed partial class ResumeData
{
    /// <summary>The format this code writes and reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Value of the <c>format</c> key: marks the file as ours.</summary>
    public const string FormatName = "peernet-resume";

    /// <summary>The torrent's identity.</summary>
    public required InfoHashes InfoHashes { get; init; }

    /// <summary>Bytes per piece.</summary>
    public required long PieceLength { get; init; }

    /// <summary>Verified pieces.</summary>
    public required PieceBitfield Pieces { get; init; }

    /// <summary>Every file of the torrent, in torrent order (pad files included, as absent).</summary>
    public required IReadOnlyList<ResumeFileState> Files { get; init; }

    /// <summary>When it was saved.</summary>
    public DateTimeOffset SavedAt { get; init; }

    /// <summary>
    /// Records <paramref name="verified"/> with the current state of each of <paramref name="storage"/>'s files.
    /// Flush the storage first, so what is recorded as verified is on the device.
    /// </summary>
    public static ResumeData Capture(TorrentStorage storage, PieceBitfield verified, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(verified);
        PieceMap map = storage.Map;
        if (verified.Count != map.PieceCount)
        {
            throw new ArgumentException($"The bitfield ranges over {verified.Count} pieces; the torrent has {map.PieceCount}.", nameof(verified));
        }

        var files = new ResumeFileState[map.FileCount];
        for (int i = 0; i < files.Length; i++)
        {
            files[i] = map.IsStored(i) ? ResumeFileState.From(storage.GetFileStatus(i)) : ResumeFileState.Absent;
        }

        var pieces = new PieceBitfield(verified.Count);
        for (int i = 0; i < verified.Count; i++)
        {
            if (verified[i])
            {
                pieces.Set(i);
            }
        }

        return new ResumeData
        {
            InfoHashes = map.Metainfo.InfoHashes,
            PieceLength = map.PieceLength,
            Pieces = pieces,
            Files = files,
            SavedAt = (timeProvider ?? TimeProvider.System).GetUtcNow(),
        };
    }

    /// <summary>The bencoded form (keys in sorted order, BEP 3).</summary>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(256 + (Pieces.Count / 8) + (Files.Count * 40));
        var w = new BencodeWriter(buffer);
        w.WriteDictionaryStart();
        w.WriteString("files"u8);
        w.WriteListStart();
        foreach (ResumeFileState file in Files)
        {
            w.WriteDictionaryStart();
            w.WriteString("length"u8);
            w.WriteInteger(file.Length);
            w.WriteString("mtime-ns"u8);
            w.WriteInteger(file.ModifiedNs);
            w.WriteEnd();
        }

        w.WriteEnd();
        w.WriteString("format"u8);
        w.WriteString(FormatName);
        if (InfoHashes.V1 is { } v1)
        {
            w.WriteString("info-hash"u8);
            w.WriteString(v1.ToArray());
        }

        if (InfoHashes.V2 is { } v2)
        {
            w.WriteString("info-hash2"u8);
            w.WriteString(v2.ToArray());
        }

        w.WriteString("piece count"u8);
        w.WriteInteger(Pieces.Count);
        w.WriteString("piece length"u8);
        w.WriteInteger(PieceLength);
        w.WriteString("pieces"u8);
        w.WriteString(Pieces.ToBytes());
        w.WriteString("saved"u8);
        w.WriteInteger(SavedAt.ToUnixTimeSeconds());
        w.WriteString("version"u8);
        w.WriteInteger(CurrentVersion);
        w.WriteEnd();
        return buffer.WrittenSpan.ToArray();
    }
}
