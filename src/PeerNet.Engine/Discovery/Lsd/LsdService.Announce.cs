using System.Threading.Channels;
using PeerNet.Lsd;

namespace PeerNet.Discovery.Lsd;

internal sealed partial class LsdService
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _announcesSent;
    private long _infoHashesAnnounced;
    private long _announcePasses;

    /// <summary>Passes of the announce loop so far (tests wait on it to know a registration was looked at).</summary>
    internal long AnnouncePasses => Interlocked.Read(ref _announcePasses);

    /// <summary>Announces what is due, then sleeps until the next info-hash is due or a registration wakes it.</summary>
    private async Task AnnounceLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var due = new List<Sha1Hash>();
                TimeSpan wait = TakeDue(due);
                if (due.Count > 0)
                {
                    await SendAsync(due, cancellationToken).ConfigureAwait(false);
                }

                Interlocked.Increment(ref _announcePasses);
                using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                Task woken = _wake.Reader.WaitToReadAsync(either.Token).AsTask();
                Task slept = Task.Delay(wait, _time, either.Token);
                await Task.WhenAny(woken, slept).ConfigureAwait(false);
                await either.CancelAsync().ConfigureAwait(false);
                _wake.Reader.TryRead(out _);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Moves every info-hash that is due into <paramref name="due"/> (marking it announced now), forgets those nobody
    /// wants any more once their minute is over, and returns how long until the next one is due (infinite for none).
    /// </summary>
    private TimeSpan TakeDue(List<Sha1Hash> due)
    {
        long now = _time.GetTimestamp();
        TimeSpan next = Timeout.InfiniteTimeSpan;
        lock (_lock)
        {
            List<Sha1Hash>? forget = null;
            foreach ((Sha1Hash hash, HashState state) in _hashes)
            {
                TimeSpan since = state.LastAnnounced is long last ? _time.GetElapsedTime(last, now) : TimeSpan.MaxValue;
                if (state.Registrations.Count == 0)
                {
                    if (since >= _options.MinAnnounceInterval)
                    {
                        (forget ??= []).Add(hash);
                    }

                    continue;
                }

                // BEP 14 rate limit: one announce per torrent per minute at most, however often it is registered.
                TimeSpan gap = state.Pending ? _options.MinAnnounceInterval : _options.AnnounceInterval;
                if (since >= gap)
                {
                    due.Add(hash);
                    state.LastAnnounced = now;
                    state.Pending = false;
                    since = TimeSpan.Zero;
                    gap = _options.AnnounceInterval;
                }

                TimeSpan left = gap - since;
                next = next == Timeout.InfiniteTimeSpan || left < next ? left : next;
            }

            foreach (Sha1Hash hash in forget ?? [])
            {
                _hashes.Remove(hash);
            }
        }

        return next;
    }

    /// <summary>Multicasts <paramref name="due"/> to every joined group, as many info-hashes per datagram as fit in 1,400 bytes.</summary>
    private async Task SendAsync(List<Sha1Hash> due, CancellationToken cancellationToken)
    {
        foreach (Group group in _groups)
        {
            int perDatagram = LsdMessage.CountThatFit(group.Host, _port, Cookie);
            for (int first = 0; first < due.Count; first += perDatagram)
            {
                int count = Math.Min(perDatagram, due.Count - first);
                var datagram = new byte[LsdMessage.GetLength(group.Host, _port, count, Cookie)];
                LsdMessage.Write(datagram, group.Host, _port, due.GetRange(first, count).ToArray(), Cookie);
                try
                {
                    await group.Socket.SendAsync(datagram, group.EndPoint, cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref _announcesSent);
                    Interlocked.Add(ref _infoHashesAnnounced, count);
                    _metrics.LsdAnnouncesSent.Add(1);
                }
                catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException && !cancellationToken.IsCancellationRequested)
                {
                    // No route to the group right now (a network going down): the next round tries again.
                    LsdLog.SendFailed(_logger, group.EndPoint, e.Message);
                }
            }
        }
    }
}
