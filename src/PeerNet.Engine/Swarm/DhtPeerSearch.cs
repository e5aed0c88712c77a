using System.Net;

namespace PeerNet.Swarm;

/// <summary>
/// A repeated DHT search for one torrent: run <c>search</c>, hand every peer it returns to <c>onPeer</c>, wait
/// <c>interval</c>, again, until cancelled. An unreachable DHT is retried at the next round, like an unreachable
/// tracker, so one failed lookup never ends the search.
/// </summary>
internal static class DhtPeerSearch
{
    public static async Task RunAsync(
        Func<CancellationToken, Task<IReadOnlyList<IPEndPoint>>> search,
        Action<IPEndPoint> onPeer,
        TimeSpan interval,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    foreach (IPEndPoint peer in await search(cancellationToken).ConfigureAwait(false))
                    {
                        onPeer(peer);
                    }
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
                {
                }

                await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
