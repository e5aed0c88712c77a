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

    /// <summary>
    /// When the providers were last audited (by <see cref="GridStorage.CheckAsync"/> or the maintenance schedule; at the
    /// put, the time of the put); null for a file recorded before this was kept.
    /// </summary>
    public DateTimeOffset? LastChecked { get; init; }

    /// <summary>
    /// When the leases were last renewed on the providers (at the put, the time of the put: allocation starts a lease);
    /// null for a file recorded before this was kept.
    /// </summary>
    public DateTimeOffset? LastRenewed { get; init; }
}

/// <summary>
/// The owner's maintenance schedule (<see cref="PeerNetNodeOptions.GridMaintenance"/>, docs/storage.md): each file this
/// node put has its leases renewed on every provider holding a share, its providers audited, and its lost shares
/// repaired, in the background. Defaults follow Tahoe-LAFS's 31-day lease, renewed well before it ends.
/// </summary>
public sealed record GridMaintenanceOptions
{
    /// <summary>The schedule turned off: no renewal, no audit, no repair unless asked (<see cref="GridStorage.CheckAsync"/>).</summary>
    public static GridMaintenanceOptions Off { get; } = new() { Enabled = false };

    /// <summary>Run the schedule at all. Default: on.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// How often the schedule wakes to look for files whose renewal or audit is due (a round). Default 10 minutes: a
    /// round with nothing due costs nothing but a look at the record.
    /// </summary>
    public TimeSpan WakeInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The lease asked for at each renewal (providers cap it at 62 days). Default 31 days, Tahoe-LAFS's lease. A provider
    /// deletes a share whose lease has ended: an owner away for longer than this loses what it stored.
    /// </summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromDays(31);

    /// <summary>
    /// How long after the last renewal a file's leases are renewed again. Default 7 days: four renewals fall in each
    /// lease, so an owner offline for up to 24 days keeps its files. Must be shorter than <see cref="Lease"/>.
    /// </summary>
    public TimeSpan RenewInterval { get; init; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long after the last audit a file's providers are audited again (the header and three random blocks with their
    /// proofs from each share, as <see cref="GridStorage.CheckAsync"/> does). Default 7 days. A renewal that a provider
    /// refuses or misses brings the file's audit forward to the same round.
    /// </summary>
    public TimeSpan AuditInterval { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Repair a file found with fewer than n but at least k healthy shares: regenerate the missing shares and place them on new peers. Default: on.</summary>
    public bool Repair { get; init; } = true;

    /// <summary>How many files are maintained at once. Default 4: one file's renewals, audit and repair run in parallel across its providers already.</summary>
    public int MaxConcurrentFiles { get; init; } = 4;

    /// <summary>
    /// The fraction of each interval by which a file's renewal and audit are brought forward, fixed per file (from its
    /// storage index), so that files put together do not all fall due in the same round. 0 to 0.5; default 0.1.
    /// </summary>
    public double Jitter { get; init; } = 0.1;

    /// <summary>The problems with these options, in words a user can act on; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (WakeInterval < TimeSpan.FromSeconds(1) || WakeInterval > TimeSpan.FromDays(1))
        {
            problems.Add("GridMaintenance.WakeInterval must be 1 s to 1 day");
        }

        if (Lease < TimeSpan.FromMinutes(1) || Lease > TimeSpan.FromDays(62))
        {
            problems.Add("GridMaintenance.Lease must be 1 minute to 62 days (providers keep shares at most 62 days unless renewed)");
        }

        if (RenewInterval <= TimeSpan.Zero || RenewInterval >= Lease)
        {
            problems.Add("GridMaintenance.RenewInterval must be positive and shorter than the lease");
        }

        if (AuditInterval <= TimeSpan.Zero)
        {
            problems.Add("GridMaintenance.AuditInterval must be positive");
        }

        if (MaxConcurrentFiles is < 1 or > 64)
        {
            problems.Add("GridMaintenance.MaxConcurrentFiles must be 1 to 64");
        }

        if (!(Jitter is >= 0 and <= 0.5))
        {
            problems.Add("GridMaintenance.Jitter must be 0 to 0.5");
        }

        return problems;
    }
}

/// <summary>What one maintenance round did to one file (<see cref="GridMaintenanceReport.Files"/>).</summary>
public sealed record GridFileMaintenance
{
    /// <summary>The file's read capability, as <see cref="GridStoredFile.Capability"/>.</summary>
    public required string Capability { get; init; }

    /// <summary>The providers that renewed the file's lease this round.</summary>
    public int LeasesRenewed { get; init; }

    /// <summary>The providers that refused the renewal (they hold no share of it) or could not be reached, in peer ID text.</summary>
    public IReadOnlyList<string> RenewalsFailed { get; init; } = [];

    /// <summary>What the audit found (and repaired); null when the file was not audited this round.</summary>
    public GridHealth? Health { get; init; }

    /// <summary>Why the file's maintenance failed (e.g. fewer than k shares to repair from); null when it did not.</summary>
    public string? Error { get; init; }
}

/// <summary>One round of the owner's maintenance (<see cref="GridStorage.LastMaintenance"/>, <see cref="GridStorage.MaintenanceCompleted"/>).</summary>
public sealed record GridMaintenanceReport
{
    /// <summary>When the round began (the node's clock).</summary>
    public required DateTimeOffset Started { get; init; }

    /// <summary>When the round ended.</summary>
    public required DateTimeOffset Finished { get; init; }

    /// <summary>How many files the owner's record held.</summary>
    public required int FilesKnown { get; init; }

    /// <summary>The files something was due for this round and what was done, in the record's order; empty when nothing was due.</summary>
    public IReadOnlyList<GridFileMaintenance> Files { get; init; } = [];

    /// <summary>How many files were audited this round.</summary>
    public int Audited => Files.Count(f => f.Health is not null);

    /// <summary>How many shares were regenerated and placed on new peers this round.</summary>
    public int SharesRepaired => Files.Sum(f => f.Health?.RepairedShares.Count ?? 0);

    /// <summary>The files audited this round with fewer than k healthy shares: they cannot be read or repaired.</summary>
    public int Unrecoverable => Files.Count(f => f.Health is { Recoverable: false });
}
