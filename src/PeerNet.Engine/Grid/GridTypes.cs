using PeerNet.Libp2p;

namespace PeerNet.Grid;

/// <summary>How <see cref="GridStorage.PutAsync"/> encodes and places a file.</summary>
public sealed record GridPutOptions
{
    /// <summary>How many shares rebuild the file. Default 3, as Tahoe-LAFS.</summary>
    public int K { get; init; } = 3;

    /// <summary>How many shares are made and placed, each on a distinct peer where there are enough. Default 10.</summary>
    public int N { get; init; } = 10;

    /// <summary>The plaintext segment size (at most 1 MiB). Default 1 MiB.</summary>
    public int SegmentSize { get; init; } = 1 << 20;

    /// <summary>
    /// Derive the key from the content (convergent encryption): the same file gives the same shares, but anyone who can
    /// guess the file can confirm it is stored (docs/storage.md). Off by default: a fresh random key per file.
    /// </summary>
    public bool Convergent { get; init; }

    /// <summary>A secret mixed into a convergent key, so that only holders of it converge. Empty by default.</summary>
    public ReadOnlyMemory<byte> ConvergenceSecret { get; init; }

    /// <summary>Peers to connect to (and offer shares to) first, besides connected and DHT-found ones.</summary>
    public IReadOnlyList<Multiaddr> Peers { get; init; } = [];

    /// <summary>How long providers keep the shares unless renewed. Default 31 days.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromDays(31);
}

/// <summary>What <see cref="GridStorage.CheckAsync"/> found (and repaired).</summary>
public sealed record GridHealth
{
    /// <summary>How many shares rebuild the file.</summary>
    public required int K { get; init; }

    /// <summary>How many shares the file was encoded to.</summary>
    public required int N { get; init; }

    /// <summary>The share numbers that answered an audit correctly (repaired ones included), ascending.</summary>
    public required IReadOnlyList<int> HealthyShares { get; init; }

    /// <summary>The share numbers regenerated and placed on new peers by this check.</summary>
    public IReadOnlyList<int> RepairedShares { get; init; } = [];

    /// <summary>Providers that failed (wrong bytes, silence, refusal of a share they listed), in peer ID text.</summary>
    public IReadOnlyList<string> FailedProviders { get; init; } = [];

    /// <summary>Whether at least k shares are healthy: the file can be read.</summary>
    public bool Recoverable => HealthyShares.Count >= K;

    /// <summary>Whether every share is healthy.</summary>
    public bool Healthy => HealthyShares.Count == N;
}

/// <summary>A file this node put into the grid, as <see cref="GridStorage.List"/> gives it.</summary>
public sealed record GridStoredFile
{
    /// <summary>The read capability.</summary>
    public required string Capability { get; init; }

    /// <summary>The file's size in bytes.</summary>
    public required long Size { get; init; }

    /// <summary>How many shares rebuild it.</summary>
    public required int K { get; init; }

    /// <summary>How many shares were made.</summary>
    public required int N { get; init; }

    /// <summary>When it was put.</summary>
    public required DateTimeOffset StoredAt { get; init; }

    /// <summary>Each placed share's number and the peer ID holding it.</summary>
    public required IReadOnlyDictionary<int, string> Shares { get; init; }

    /// <summary>The healthy shares at the last check (at the put: the shares acknowledged).</summary>
    public required int HealthyShares { get; init; }
}
