using PeerNet.Metainfo;
using PeerNet.Swarm;

namespace PeerNet;

/// <summary>Starting, pausing, resuming, rechecking, moving and removing: one at a time, each leaving resume data behind.</summary>
public sealed partial class TorrentHandle
{
    private CancellationTokenSource? _fetching;

    /// <summary>
    /// Stops all transfer and closes the torrent's files (resume data saved); the torrent keeps its place in the node.
    /// Nothing happens if it is paused already.
    /// </summary>
    public async Task PauseAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfRemoved();
            if (_state == TorrentState.Paused && Volatile.Read(ref _swarm) is null)
            {
                return;
            }

            await StopAsync(TorrentState.Paused).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }

        _node.Publish(new TorrentStateChanged(this, TorrentState.Paused));
    }

    /// <summary>
    /// Starts a paused torrent, or one stopped by an error, again: resume data spares the check of what was verified.
    /// Nothing happens if it is running.
    /// </summary>
    public async Task ResumeAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfRemoved();
            if (Volatile.Read(ref _swarm) is { State: not TorrentState.Error } || (_fetching is not null && !_fetching.IsCancellationRequested))
            {
                return;
            }

            await StopAsync(TorrentState.Paused).ConfigureAwait(false); // one stopped by an error is closed first
            await StartAsync(recheck: false, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }

        _node.Publish(new TorrentStateChanged(this, GetStatus().State));
    }

    /// <summary>Checks every piece on disk again (ignoring resume data), then goes on as before.</summary>
    public async Task RecheckAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfRemoved();
            if (Metainfo is null)
            {
                return; // nothing on disk can be known before the metadata
            }

            await StopAsync(TorrentState.Paused).ConfigureAwait(false);
            await StartAsync(recheck: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// Removes the torrent from its node; with <paramref name="deleteData"/>, also deletes its files (and the folders
    /// left empty under the save path). Data of a read-only torrent is never deleted. Removing twice does nothing.
    /// </summary>
    public async Task RemoveAsync(bool deleteData = false, CancellationToken cancellationToken = default)
    {
        if (deleteData && Options.ReadOnly)
        {
            throw new InvalidOperationException($"{this} serves data in place, read-only: its files are not PeerNet's to delete");
        }

        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!IsValid)
            {
                return;
            }

            await StopAsync(TorrentState.Stopped).ConfigureAwait(false);
            Volatile.Write(ref _removed, 1);
            _node.Forget(this);
            if (deleteData && Metainfo is { } metainfo)
            {
                TorrentData.Delete(metainfo, Options.SavePath, Options.SavePathIsContent);
            }
        }
        finally
        {
            _lifecycle.Release();
        }

        var removed = new ObjectDisposedException(nameof(TorrentHandle), $"{this} was removed");
        _completed.TrySetException(removed);
        _metadata.TrySetException(removed);
        _node.Publish(new TorrentRemoved(this));
    }

    /// <summary>
    /// Moves the torrent's files to <paramref name="savePath"/> (renamed where possible, copied across file systems) and
    /// goes on from there; a running torrent is paused for the move and resumed after.
    /// </summary>
    public async Task MoveStorageAsync(string savePath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(savePath);
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfRemoved();
            bool running = Volatile.Read(ref _swarm) is not null || _state == TorrentState.FetchingMetadata;
            await StopAsync(TorrentState.Paused).ConfigureAwait(false);
            if (Metainfo is { } metainfo)
            {
                TorrentData.Move(metainfo, Options.SavePath, Path.GetFullPath(savePath), Options.SavePathIsContent);
            }

            Options = Options with { SavePath = Path.GetFullPath(savePath) };
            if (running)
            {
                await StartAsync(recheck: false, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// Sets each file's priority, one per file of the metadata (pad files included, as in
    /// <see cref="AddTorrentOptions.FilePriorities"/>): <see cref="FilePriorities.Skip"/> leaves a file out, 1 to
    /// <see cref="FilePriorities.Highest"/> order the rest. A running torrent starts again on the new priorities (its
    /// connections close and are made again; resume data spares any check), so a file wanted again is fetched and
    /// <see cref="WaitForCompletionAsync"/> waits for it; a paused torrent keeps them for its resume. Throws
    /// <see cref="InvalidOperationException"/> before a magnet link's metadata has arrived, and
    /// <see cref="ArgumentException"/> for a list of the wrong length or a priority out of range.
    /// </summary>
    public async Task SetFilePrioritiesAsync(IReadOnlyList<int> priorities, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(priorities);
        int[] copy = [.. priorities];
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfRemoved();
            TorrentMetainfo metainfo = Metainfo ?? throw new InvalidOperationException($"{this} has no metadata yet: its files are not known");
            if (copy.Length != metainfo.Files.Count || copy.Any(p => p is < FilePriorities.Skip or > FilePriorities.Highest))
            {
                throw new ArgumentException($"give one priority from {FilePriorities.Skip} to {FilePriorities.Highest} per file ({metainfo.Files.Count})", nameof(priorities));
            }

            bool running = Volatile.Read(ref _swarm) is { State: not TorrentState.Error }; // one in error takes them on its resume
            if (running)
            {
                await StopAsync(TorrentState.Paused).ConfigureAwait(false);
            }

            Options = Options with { FilePriorities = copy, SelectedFiles = null };
            if (Volatile.Read(ref _completed).Task.IsCompletedSuccessfully)
            {
                // Complete for the old priorities; the swarm says so again at start if it still is.
                Volatile.Write(ref _completed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }

            if (running)
            {
                await StartAsync(recheck: false, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Starts the torrent (its metadata first, for a magnet link). Called with the lifecycle held, or by the node at add.</summary>
    internal async Task StartAsync(bool recheck, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _completed).Task.IsFaulted)
        {
            Volatile.Write(ref _completed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }

        _error = null;
        if (Metainfo is null)
        {
            _state = TorrentState.FetchingMetadata;
            var fetching = CancellationTokenSource.CreateLinkedTokenSource(_node.Stopping);
            _fetching = fetching;
            _ = FetchMetadataAsync(fetching.Token);
            return;
        }

        _state = TorrentState.Checking;
        TorrentSwarm swarm = await _node.StartSwarmAsync(this, Metainfo, recheck, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _swarm, swarm);
    }

    /// <summary>The node stops: the torrent stops with it (no events; waiters see it removed).</summary>
    internal async Task StopForNodeAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            await StopAsync(TorrentState.Stopped).ConfigureAwait(false);
            Volatile.Write(ref _removed, 1);
        }
        finally
        {
            _lifecycle.Release();
        }

        var stopped = new ObjectDisposedException(nameof(TorrentHandle), "the node stopped");
        Volatile.Read(ref _completed).TrySetException(stopped);
        _metadata.TrySetException(stopped);
    }

    /// <summary>Stops whatever runs (a metadata fetch, the swarm) and leaves the torrent in <paramref name="state"/>.</summary>
    internal async Task StopAsync(TorrentState state)
    {
        if (Interlocked.Exchange(ref _fetching, null) is { } fetching)
        {
            await fetching.CancelAsync().ConfigureAwait(false);
            fetching.Dispose();
        }

        if (Interlocked.Exchange(ref _swarm, null) is { } swarm)
        {
            TorrentStatus last = swarm.GetStatus();
            _lastStatus = last;
            await _node.StopSwarmAsync(swarm).ConfigureAwait(false);
            if (last.State == TorrentState.Error && state == TorrentState.Paused)
            {
                state = TorrentState.Error; // paused by the node after an error: still in error until resumed
            }
        }

        _state = state;
    }

    /// <summary>Fetches a magnet link's metadata, then starts the torrent with it (unless paused or removed meanwhile).</summary>
    private async Task FetchMetadataAsync(CancellationToken cancellationToken)
    {
        try
        {
            (TorrentMetainfo metainfo, IReadOnlyList<System.Net.IPEndPoint> magnetPeers) = await _node.FetchMetadataAsync(_magnet!, Options, cancellationToken).ConfigureAwait(false);
            await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                Volatile.Write(ref _metainfo, metainfo);
                InfoHashes = metainfo.InfoHashes;
                _node.Reindex(this);
                _fetching = null;
                Options = Options with { Peers = [.. Options.Peers.Union(magnetPeers)] };
                if (Options.FilePriorities is null && Options.SelectedFiles is null && _magnet!.SelectOnly.Count > 0)
                {
                    Options = Options with { FilePriorities = FilePriorities.FromSelection(_magnet.SelectOnly, metainfo.Files) };
                }

                _metadata.TrySetResult(metainfo);
                _node.Publish(new MetadataReceived(this));
                await StartAsync(Options.Recheck, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _lifecycle.Release();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Paused, removed, or the node stopped.
        }
        catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException or ArgumentException or UnauthorizedAccessException or FormatException)
        {
            _error = DisplayText.Sanitize(e.Message);
            _state = TorrentState.Error;
            _metadata.TrySetException(e);
            Volatile.Read(ref _completed).TrySetException(new IOException(_error, e));
            _node.Publish(new TorrentStateChanged(this, TorrentState.Error));
        }
    }

    private void ThrowIfRemoved() => ObjectDisposedException.ThrowIf(!IsValid, this);
}
