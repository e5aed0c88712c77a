using System.Buffers.Binary;
using Google.Protobuf;
using PeerNet.Grid.Protos;
using PeerNet.Libp2p;

namespace PeerNet.Grid;

/// <summary>The owner's maintenance: leases renewed, providers audited and lost shares repaired on a schedule.</summary>
public sealed partial class GridStorage
{
    private readonly SemaphoreSlim _roundGate = new(1, 1);
    private CancellationTokenSource? _maintenanceStop;
    private Task _maintenanceLoop = Task.CompletedTask;
    private GridMaintenanceReport? _lastMaintenance;

    /// <summary>The maintenance schedule this node runs (<see cref="PeerNetNodeOptions.GridMaintenance"/>).</summary>
    public GridMaintenanceOptions Maintenance { get; }

    /// <summary>The last maintenance round's report (scheduled or asked for); null before the first round ends.</summary>
    public GridMaintenanceReport? LastMaintenance => Volatile.Read(ref _lastMaintenance);

    /// <summary>
    /// Raised after each maintenance round (scheduled or asked for) with its report, on the round's thread. A handler that
    /// throws does not stop the schedule.
    /// </summary>
    public event EventHandler<GridMaintenanceReport>? MaintenanceCompleted;

    /// <summary>
    /// Runs a maintenance round now, as the schedule would (even when it is off): for each file whose renewal or audit is
    /// due (every file with <paramref name="all"/>), renews its leases on the providers holding its shares, audits them
    /// and, with <see cref="GridMaintenanceOptions.Repair"/>, repairs it. Waits for a round in progress to end first.
    /// </summary>
    public Task<GridMaintenanceReport> RunMaintenanceAsync(bool all = false, CancellationToken cancellationToken = default)
        => RoundAsync(all, cancellationToken);

    /// <summary>Whether the schedule was started (tests: off means no loop at all).</summary>
    internal bool MaintenanceStarted => _maintenanceStop is not null;

    /// <summary>Starts the schedule (when on): the first wake is registered before this returns, on the node's clock.</summary>
    internal void StartMaintenance()
    {
        if (!Maintenance.Enabled || _maintenanceStop is not null)
        {
            return;
        }

        _maintenanceStop = new CancellationTokenSource();
        CancellationToken stopping = _maintenanceStop.Token;
        Task wake = Task.Delay(Maintenance.WakeInterval, _time, stopping);
        _maintenanceLoop = MaintainAsync(wake, stopping);
    }

    /// <summary>Stops the schedule: a round in progress is cancelled (its requests with it) and awaited.</summary>
    internal async Task StopMaintenanceAsync()
    {
        if (_maintenanceStop is not { } stop)
        {
            return;
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await _maintenanceLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stop.Dispose();
    }

    private async Task MaintainAsync(Task wake, CancellationToken stopping)
    {
        try
        {
            while (true)
            {
                // Off the clock's thread: a fake clock's Advance (tests) would otherwise run the whole round inline.
                await wake.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
                try
                {
                    await RoundAsync(all: false, stopping, () => wake = Task.Delay(Maintenance.WakeInterval, _time, stopping)).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The record could not be written (disk full...): try again at the next wake.
                    wake = Task.Delay(Maintenance.WakeInterval, _time, stopping);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The node is stopping.
        }
    }

    /// <summary>
    /// One round. <paramref name="beforePublish"/> runs after the round and before its report is published, so that the
    /// schedule's next wake is registered on the clock before anyone who waits for the report moves the clock on.
    /// </summary>
    private async Task<GridMaintenanceReport> RoundAsync(bool all, CancellationToken cancellationToken, Action? beforePublish = null)
    {
        GridMaintenanceReport report;
        await _roundGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            DateTimeOffset started = _time.GetUtcNow();
            IReadOnlyList<GridStoredFile> files = _records.All();
            var due = new List<(GridStoredFile File, GridCapability Capability, bool Renew, bool Audit)>();
            foreach (GridStoredFile file in files)
            {
                if (!GridCapability.TryParse(file.Capability, out GridCapability? capability, out _))
                {
                    continue;
                }

                double stagger = Maintenance.Jitter * BinaryPrimitives.ReadUInt16BigEndian(capability!.StorageIndex.Span) / 65536.0;
                bool renew = all || IsDue(file.LastRenewed, Maintenance.RenewInterval, stagger, started);
                bool audit = all || IsDue(file.LastChecked, Maintenance.AuditInterval, stagger, started);
                if (renew || audit)
                {
                    due.Add((file, capability, renew, audit));
                }
            }

            var results = new GridFileMaintenance[due.Count];
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Maintenance.MaxConcurrentFiles, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(Enumerable.Range(0, due.Count), parallel, async (i, ct) =>
            {
                (GridStoredFile file, GridCapability capability, bool renew, bool audit) = due[i];
                results[i] = await MaintainFileAsync(file, capability, renew, audit, ct).ConfigureAwait(false);
            }).ConfigureAwait(false);

            if (due.Count > 0)
            {
                _records.Save(); // the round's audit and renewal times, at once rather than a rewrite per file
            }

            report = new GridMaintenanceReport { Started = started, Finished = _time.GetUtcNow(), FilesKnown = files.Count, Files = results };
            Volatile.Write(ref _lastMaintenance, report);
        }
        finally
        {
            _roundGate.Release();
        }

        beforePublish?.Invoke();
        try
        {
            MaintenanceCompleted?.Invoke(this, report);
        }
        catch (Exception)
        {
            // A watcher's fault is not the schedule's.
        }

        return report;
    }

    /// <summary>Whether something last done at <paramref name="last"/> is due again: never done, or the interval (less this file's stagger) has passed.</summary>
    private static bool IsDue(DateTimeOffset? last, TimeSpan interval, double stagger, DateTimeOffset now)
        => last is not { } at || now >= at + (interval * (1 - stagger));

    private async Task<GridFileMaintenance> MaintainFileAsync(GridStoredFile file, GridCapability capability, bool renew, bool audit, CancellationToken cancellationToken)
    {
        int renewed = 0;
        List<string> failed = [];
        try
        {
            if (renew)
            {
                (renewed, failed) = await RenewAsync(capability, file.Shares.Values, cancellationToken).ConfigureAwait(false);
                if (renewed > 0)
                {
                    DateTimeOffset now = _time.GetUtcNow();
                    _records.Update(file.Capability, r => r with { LastRenewed = now }, persist: false);
                }

                audit |= failed.Count > 0; // a provider that no longer holds the file, or is gone: find out now
            }

            GridHealth? health = audit ? await CheckCoreAsync(capability, Maintenance.Repair, persist: false, cancellationToken).ConfigureAwait(false) : null;
            return new GridFileMaintenance { Capability = file.Capability, LeasesRenewed = renewed, RenewalsFailed = failed, Health = health };
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // One file's failure (a repair that ran out of shares, a disk error) does not stop the round.
            return new GridFileMaintenance { Capability = file.Capability, LeasesRenewed = renewed, RenewalsFailed = failed, Error = e.Message };
        }
    }

    /// <summary>Renews the file's lease on each of <paramref name="providers"/> (in parallel): how many did, and those that refused or could not be reached.</summary>
    private async Task<(int Renewed, List<string> Failed)> RenewAsync(GridCapability capability, IEnumerable<string> providers, CancellationToken cancellationToken)
    {
        var request = new StoreRequest
        {
            Renew = new RenewLease { StorageIndex = ByteString.CopyFrom(capability.StorageIndex.Span), LeaseSeconds = (ulong)Maintenance.Lease.TotalSeconds },
        };
        (string Provider, bool Ok)[] answers = await Task.WhenAll(providers.Distinct(StringComparer.Ordinal).Select(async provider =>
        {
            if (!Libp2pPeerId.TryParse(provider, out Libp2pPeerId? peer, out _))
            {
                return (provider, false);
            }

            try
            {
                GridSession session = await GridSession.OpenAsync(_libp2p, peer, RequestTimeout, cancellationToken).ConfigureAwait(false);
                await using (session.ConfigureAwait(false))
                {
                    StoreResponse answer = await session.RequestAsync(request, cancellationToken).ConfigureAwait(false);
                    return (provider, answer.Ok);
                }
            }
            catch (GridProviderException)
            {
                return (provider, false); // unreachable or silent: the audit that follows decides whether it is lost
            }
        })).ConfigureAwait(false);
        return (answers.Count(a => a.Ok), [.. answers.Where(a => !a.Ok).Select(a => a.Provider)]);
    }
}
