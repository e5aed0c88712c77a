namespace PeerNet.Threading;

/// <summary>
/// Starts the engine's long-lived loops (a torrent's, a tracker's, the DHT's, a peer's reader and writer) without the
/// <see cref="ExecutionContext"/> of whoever started them. Task.Run would capture it: a torrent added through the
/// daemon's API would keep that HTTP request's Activity (and every other AsyncLocal: logging scopes, the request's
/// trace) alive for as long as it runs, one per torrent, and its spans would claim a request that ended long ago.
/// </summary>
internal static class BackgroundLoop
{
    /// <summary>Runs <paramref name="loop"/> on the thread pool with a clean execution context.</summary>
    public static Task Start(Func<Task> loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(loop, CancellationToken.None);
        }
    }
}
