using PeerNet.Metainfo;

namespace PeerNet.Creation;

/// <summary>What to put in a new torrent.</summary>
public sealed record TorrentCreationOptions
{
    /// <summary>A file, or a folder whose files (recursively) become a multi-file torrent.</summary>
    public required string SourcePath { get; init; }

    /// <summary>v1, v2 or hybrid (default: hybrid, readable by every client).</summary>
    public TorrentVersion Version { get; init; } = TorrentVersion.Hybrid;

    /// <summary>Bytes per piece: a power of two, at least 16 KiB; 0 picks one from the total size.</summary>
    public long PieceLength { get; init; }

    /// <summary>Tracker URLs; each is its own BEP 12 tier, in order.</summary>
    public IReadOnlyList<string> Trackers { get; init; } = [];

    /// <summary>BEP 19 web seed URLs.</summary>
    public IReadOnlyList<string> WebSeeds { get; init; } = [];

    /// <summary>BEP 27 private flag.</summary>
    public bool IsPrivate { get; init; }

    /// <summary>Optional <c>comment</c>.</summary>
    public string? Comment { get; init; }

    /// <summary><c>created by</c>; null leaves it out.</summary>
    public string? CreatedBy { get; init; } = "PeerNet/0.1";

    /// <summary><c>creation date</c>; null leaves it out (for reproducible output).</summary>
    public DateTimeOffset? CreationDate { get; init; }

    /// <summary>How many hashing workers; 0 uses every core.</summary>
    public int Parallelism { get; init; }
}

/// <summary>Hashing progress, reported as bytes are hashed.</summary>
public readonly record struct CreationProgress(long BytesHashed, long TotalBytes);
