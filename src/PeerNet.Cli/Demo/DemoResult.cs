namespace PeerNet.Cli.Demo;

/// <summary>The numbers a demo run ends with: times, who uploaded what, and whether every copy is the original.</summary>
internal sealed record DemoResult
{
    public required int Peers { get; init; }

    public required long Size { get; init; }

    public required int PieceCount { get; init; }

    public required long PieceLength { get; init; }

    public required long SeedRate { get; init; }

    public required long PeerRate { get; init; }

    /// <summary>From the first leecher's start to the last honest copy's last verified piece.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Payload bytes the seeder sent.</summary>
    public required long SeederUploaded { get; init; }

    /// <summary>Payload bytes the honest leechers sent one another.</summary>
    public required long LeecherUploaded { get; init; }

    /// <summary>Payload bytes the bad peer sent (all corrupt).</summary>
    public long BadPeerUploaded { get; init; }

    /// <summary>Payload bytes the honest leechers received and threw away (failed pieces, endgame duplicates).</summary>
    public long Wasted { get; init; }

    /// <summary>Each honest copy: its name, when it completed, and whether it matches the original byte for byte.</summary>
    public required IReadOnlyList<DemoCopy> Copies { get; init; }

    /// <summary>Leechers that left and rejoined (<c>--churn</c>).</summary>
    public IReadOnlyList<(string Name, DemoRejoin Rejoin)> Rejoins { get; init; } = [];

    /// <summary>Whether the run had a bad peer.</summary>
    public bool HadBadPeer { get; init; }

    /// <summary>Honest leechers that banned the bad peer.</summary>
    public int BannedBadPeer { get; init; }

    /// <summary>Pieces that failed their hash check, over every honest leecher.</summary>
    public int HashFailures { get; init; }

    /// <summary>Why the run stopped early (a stall, a torrent error); null when it ran to the end.</summary>
    public string? Failure { get; init; }

    public int CopiesVerified => Copies.Count(c => c.Verified);

    /// <summary>True when the run finished and every honest copy is byte-identical to the original.</summary>
    public bool Success => Failure is null && Copies.Count == Peers && Copies.All(c => c.Verified);

    /// <summary>Everyone downloads from the seeder alone: N copies through the seeder's cap. Null without a cap.</summary>
    public TimeSpan? ClientServerTime => SeedRate > 0 ? TimeSpan.FromSeconds((double)Peers * Size / SeedRate) : null;

    /// <summary>
    /// Peer-to-peer ideal: the seeder uploads one copy (size ÷ seed rate), unless the leechers' upload caps
    /// cannot carry the rest that fast, in which case all N copies through every cap together bound it.
    /// </summary>
    public TimeSpan? IdealTime
    {
        get
        {
            if (SeedRate <= 0)
            {
                return null;
            }

            double oneCopy = (double)Size / SeedRate;
            double allCaps = PeerRate > 0 ? (double)Peers * Size / (SeedRate + ((double)Peers * PeerRate)) : 0;
            return TimeSpan.FromSeconds(Math.Max(oneCopy, allCaps));
        }
    }

    /// <summary>Whether the leechers' upload caps, not the seeder's, set <see cref="IdealTime"/>.</summary>
    public bool IdealLimitedByPeers => SeedRate > 0 && PeerRate > 0 && (double)Peers * Size / (SeedRate + ((double)Peers * PeerRate)) > (double)Size / SeedRate;

    /// <summary>The seeder's share of the honest upload, 0 to 1.</summary>
    public double SeederShare => SeederUploaded + LeecherUploaded == 0 ? 0 : (double)SeederUploaded / (SeederUploaded + LeecherUploaded);
}

/// <summary>One honest leecher's copy at the end.</summary>
internal sealed record DemoCopy(string Name, TimeSpan? CompletedAfter, bool Verified);
