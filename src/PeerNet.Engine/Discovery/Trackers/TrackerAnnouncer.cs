using System.Net;
using PeerNet.Threading;
using PeerNet.Tracker;
using PeerNet.Transport;

namespace PeerNet.Discovery.Trackers;

/// <summary>
/// Announces one torrent to its trackers for as long as it runs: <c>started</c> first, then at the interval the
/// tracker asks (within <see cref="TrackerClientOptions.MinInterval"/> and <see cref="TrackerClientOptions.MaxInterval"/>,
/// never before its <c>min interval</c>), <c>completed</c> as soon as the download finishes, and <c>stopped</c>
/// to the tracker in use when the torrent leaves, waiting at most <see cref="TrackerClientOptions.StopTimeout"/>.
/// After a round where every tracker failed it waits <see cref="TrackerClientOptions.RetryDelay"/>, doubling.
/// </summary>
internal sealed class TrackerAnnouncer : IAsyncDisposable
{
    private readonly TrackerTiers _tiers;
    private readonly TrackerClientOptions _options;
    private readonly TimeProvider _time;
    private readonly Func<TrackerEvent, AnnounceRequest> _request;
    private readonly Action<IReadOnlyList<IPEndPoint>> _onPeers;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Cancels a completed announce only once the stop timeout is over: stopping right after the download finished
    // (peernet get exits then) must not cut the one announce that tells the tracker it finished.
    private readonly CancellationTokenSource _completedDeadline = new();
    private int _completedSent;
    private Task _loop = Task.CompletedTask;
    private TrackerEntry? _current;
    private int _announces;
    private int _stopped;
    private int _waits;

    /// <param name="tiers">The torrent's trackers; the announcer disposes them.</param>
    /// <param name="options">Timing.</param>
    /// <param name="time">The clock for every wait.</param>
    /// <param name="request">Builds a request for an event with the torrent's current counters.</param>
    /// <param name="onPeers">Receives the peers of each successful announce.</param>
    public TrackerAnnouncer(TrackerTiers tiers, TrackerClientOptions options, TimeProvider time, Func<TrackerEvent, AnnounceRequest> request, Action<IReadOnlyList<IPEndPoint>> onPeers)
    {
        _tiers = tiers;
        _options = options;
        _time = time;
        _request = request;
        _onPeers = onPeers;
    }

    /// <summary>
    /// Receives, with the tracker's URL, the address a tracker on the internet says the announce came from (BEP 24
    /// <c>external ip</c>); a tracker on loopback or the LAN sees a local address and is not asked.
    /// </summary>
    public Action<string, IPAddress>? ExternalAddressReported { get; init; }

    /// <summary>Successful announces so far (for tests and status).</summary>
    public int SuccessfulAnnounces => Volatile.Read(ref _announces);

    /// <summary>Waits begun after an announce round (for tests that move a fake clock only once the timer exists).</summary>
    internal int Waits => Volatile.Read(ref _waits);

    public TrackerSummary GetSummary() => _tiers.GetSummary();

    /// <summary>Each tracker's URL and state.</summary>
    public IReadOnlyList<(string Url, TrackerState State)> GetStates() => _tiers.GetStates();

    /// <summary>Every tracker with its tier, state and last error.</summary>
    public IReadOnlyList<TrackerStatus> GetStatuses() => _tiers.GetStatuses();

    /// <summary>Starts announcing, <c>started</c> first.</summary>
    public void Start() => _loop = BackgroundLoop.Start(() => RunAsync(_stopping.Token));

    /// <summary>The download finished: announce <c>completed</c> now (BEP 3: sent once, when the download completes).</summary>
    public void OnCompleted() => _completed.TrySetResult();

    /// <summary>Ends the loop and announces <c>stopped</c> to the tracker in use, within the stop timeout; never throws.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(_options.StopTimeout, _time);
        using CancellationTokenRegistration deadline = timeout.Token.Register(static state => ((CancellationTokenSource)state!).Cancel(), _completedDeadline);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        TrackerEntry? current = Volatile.Read(ref _current);
        if (current is null)
        {
            return; // never announced started: nothing to take back
        }

        try
        {
            if (_completed.Task.IsCompleted && Volatile.Read(ref _completedSent) == 0)
            {
                // Finished after the last announce and stopping before the loop could say so: completed first,
                // or the tracker never counts this download (opentracker's "downloaded" counts completed events).
                await _tiers.AnnounceOneAsync(current, _request(TrackerEvent.Completed), timeout.Token).ConfigureAwait(false);
                Volatile.Write(ref _completedSent, 1);
            }

            await _tiers.AnnounceOneAsync(current, _request(TrackerEvent.Stopped) with { NumWant = 0 }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TrackerException or OperationCanceledException)
        {
            // Best effort: the tracker forgets us after its interval anyway.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _tiers.Dispose();
        _stopping.Dispose();
        _completedDeadline.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        TrackerEvent next = TrackerEvent.Started;
        int failures = 0;
        try
        {
            while (true)
            {
                if (next != TrackerEvent.Started && Volatile.Read(ref _completedSent) == 0 && _completed.Task.IsCompleted)
                {
                    next = TrackerEvent.Completed;
                }

                // A started built once the download was complete says left=0 and stands for completed (BEP 3 sends
                // completed only for a download that finished while announced); one built before does not, even
                // if the download finishes while it is in flight.
                bool completeAtRequest = _completed.Task.IsCompleted;
                TimeSpan wait;
                try
                {
                    CancellationToken announceToken = next == TrackerEvent.Completed ? _completedDeadline.Token : cancellationToken;
                    (TrackerEntry entry, AnnounceResponse response) = await _tiers.AnnounceAsync(_request(next), announceToken).ConfigureAwait(false);
                    Volatile.Write(ref _current, entry);
                    if (next == TrackerEvent.Completed || (next == TrackerEvent.Started && completeAtRequest))
                    {
                        Volatile.Write(ref _completedSent, 1);
                    }

                    next = TrackerEvent.None;
                    failures = 0;
                    // A tracker on the internet cannot send us to loopback or private addresses (the node as a reflector).
                    IPEndPoint[] peers = [.. response.Peers.Where(p => NetworkScopes.MayName(entry.Tracker.Scope, p.Address))];
                    if (peers.Length > 0)
                    {
                        _onPeers(peers);
                    }

                    if (response.ExternalAddress is { } external && entry.Tracker.Scope == NetworkScope.Global)
                    {
                        ExternalAddressReported?.Invoke(entry.Tracker.Url, external);
                    }

                    Interlocked.Increment(ref _announces); // counted once its peers are passed on, so a count is a completed announce
                    wait = IntervalOf(response);
                }
                catch (TrackerException)
                {
                    failures++;
                    wait = TimeSpan.FromTicks(Math.Min(_options.MaxRetryDelay.Ticks, _options.RetryDelay.Ticks << Math.Min(failures - 1, 20)));
                }

                // Wake early for the completed event, unless the tracker in use has not had its started yet.
                using var delay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                Task wake = next == TrackerEvent.None && Volatile.Read(ref _completedSent) == 0 ? _completed.Task : Task.Delay(Timeout.InfiniteTimeSpan, delay.Token);
                Task timer = Task.Delay(wait, _time, delay.Token);
                Interlocked.Increment(ref _waits);
                await Task.WhenAny(timer, wake).ConfigureAwait(false);
                await delay.CancelAsync().ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// The tracker's interval, at least its min interval, within the client's bounds: BEP 3's "interval" is "the
    /// number of seconds the downloader should wait between regular rerequests"; "min interval" must be honoured.
    /// </summary>
    private TimeSpan IntervalOf(AnnounceResponse response)
    {
        TimeSpan interval = response.Interval ?? _options.DefaultInterval;
        if (response.MinInterval is { } min && min > interval)
        {
            interval = min;
        }

        return interval < _options.MinInterval ? _options.MinInterval : interval > _options.MaxInterval ? _options.MaxInterval : interval;
    }
}
