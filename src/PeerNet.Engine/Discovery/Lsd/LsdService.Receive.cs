using System.Net;
using System.Threading.Channels;
using PeerNet.Discovery.Dht;
using PeerNet.Lsd;
using PeerNet.Transport;

namespace PeerNet.Discovery.Lsd;

internal sealed partial class LsdService
{
    private readonly SourceRateLimiter _perSource;
    private readonly SourceRateLimiter _overall;
    private readonly Channel<Received> _queue;
    private long _datagramsReceived;
    private long _droppedRateLimited;
    private long _droppedQueueFull;
    private long _refused;
    private long _ownIgnored;
    private long _peersFound;

    /// <summary>Most (info-hash, peer) pairs remembered as heard recently; when full, new peers get no early answer.</summary>
    internal const int MaxHeardPeers = 4096;

    private readonly Dictionary<(Sha1Hash, IPEndPoint), long> _heard = []; // guarded by _lock

    /// <summary>
    /// Reads one group's socket: a datagram over the source's or the overall rate is dropped unread, the rest is
    /// copied into the bounded queue for <see cref="ProcessLoopAsync"/> (dropped when it is full).
    /// </summary>
    private async Task ReceiveLoopAsync(Group group, CancellationToken cancellationToken)
    {
        var buffer = new byte[LsdLimits.MaxMessageLength + 1]; // one byte more tells an oversized datagram apart
        while (!cancellationToken.IsCancellationRequested)
        {
            DatagramReceived received;
            try
            {
                received = await group.Socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (System.Net.Sockets.SocketException e)
            {
                LsdLog.ReceiveFailed(_logger, group.EndPoint, e.Message);
                return;
            }

            Interlocked.Increment(ref _datagramsReceived);
            if (!_perSource.TryTake(received.RemoteEndPoint.Address) || !_overall.TryTake(IPAddress.Any))
            {
                Interlocked.Increment(ref _droppedRateLimited);
                _metrics.LsdDatagramsDropped.Add(1);
                continue;
            }

            if (!_queue.Writer.TryWrite(new Received(buffer.AsSpan(0, received.Length).ToArray(), received.RemoteEndPoint)))
            {
                Interlocked.Increment(ref _droppedQueueFull);
                _metrics.LsdDatagramsDropped.Add(1);
            }
        }
    }

    private async Task ProcessLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (Received datagram in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                Process(datagram.Data, datagram.Source);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Parses one datagram and hands the peer it announces to everyone registered for its info-hashes.</summary>
    internal void Process(ReadOnlySpan<byte> datagram, IPEndPoint source)
    {
        if (!LsdMessage.TryParse(datagram, out LsdAnnounce? announce, out LsdError error))
        {
            Interlocked.Increment(ref _refused);
            _metrics.LsdDatagramsDropped.Add(1);
            LsdLog.Refused(_logger, source, error.Describe());
            return;
        }

        if (announce.Cookie == Cookie)
        {
            Interlocked.Increment(ref _ownIgnored); // ours, back through multicast loopback
            return;
        }

        if (source.Address.Equals(IPAddress.Any) || source.Address.Equals(IPAddress.IPv6Any) || source.Address.Equals(IPAddress.Broadcast))
        {
            Interlocked.Increment(ref _refused); // no address to dial back
            _metrics.LsdDatagramsDropped.Add(1);
            return;
        }

        var peer = new IPEndPoint(source.Address, announce.Port);
        bool answer = false;
        foreach (Sha1Hash hash in announce.InfoHashes)
        {
            Registration[] registrations;
            lock (_lock)
            {
                registrations = _hashes.TryGetValue(hash, out HashState? state) ? [.. state.Registrations] : [];
                if (registrations.Length > 0 && IsNewLocked(hash, peer))
                {
                    // A node we have not heard lately (it just started) cannot know of us until our next announce,
                    // and a magnet fetch cannot take its connection: announce again as soon as the minute allows.
                    state!.Pending = true;
                    answer = true;
                }
            }

            foreach (Registration registration in registrations)
            {
                Interlocked.Increment(ref _peersFound);
                _metrics.LsdPeersFound.Add(1);
                LsdLog.PeerFound(_logger, peer, hash);
                registration.OnPeer(peer);
            }
        }

        if (answer)
        {
            _wake.Writer.TryWrite(true);
        }
    }

    /// <summary>Remembers that <paramref name="peer"/> announced <paramref name="hash"/>; true if it had not within an announce interval.</summary>
    private bool IsNewLocked(Sha1Hash hash, IPEndPoint peer)
    {
        long now = _time.GetTimestamp();
        if (_heard.TryGetValue((hash, peer), out long last) && _time.GetElapsedTime(last, now) < _options.AnnounceInterval)
        {
            _heard[(hash, peer)] = now;
            return false;
        }

        if (_heard.Count >= MaxHeardPeers)
        {
            foreach (KeyValuePair<(Sha1Hash, IPEndPoint), long> entry in _heard.Where(e => _time.GetElapsedTime(e.Value, now) >= _options.AnnounceInterval).ToList())
            {
                _heard.Remove(entry.Key);
            }

            if (_heard.Count >= MaxHeardPeers)
            {
                return false;
            }
        }

        _heard[(hash, peer)] = now;
        return true;
    }

    private readonly record struct Received(byte[] Data, IPEndPoint Source);
}
