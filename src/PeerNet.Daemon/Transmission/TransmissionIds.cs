using System.Runtime.CompilerServices;
using System.Text.Json;
using PeerNet.Daemon.Persistence;
using PeerNet.Daemon.Service;

namespace PeerNet.Daemon.Transmission;

/// <summary>
/// The small numbers Transmission's clients name torrents by (<c>transmission-remote -t 3</c>), kept across restarts in
/// <c>&lt;state&gt;/transmission-ids.json</c> (hash to number, written atomically): the node numbers its torrents anew
/// on each start, in the order it loads them, and a script's <c>-t 3</c> must not change meaning with a restart. A
/// torrent gets the next number the first time the RPC sees it (numbers are never reused) and loses it when removed.
/// The file is written at most once per <see cref="SaveDelay"/> (and at the daemon's stop), not once per new torrent:
/// 10,000 torrents added one by one would otherwise write the whole map 10,000 times. A <c>kill -9</c> within that
/// delay of a numbering loses only the new numbers; those torrents are numbered again at the next start.
/// </summary>
internal sealed class TransmissionIds
{
    /// <summary>The largest file read back (a number and a 40-digit hash per torrent: ample for 100,000).</summary>
    private const long MaxFileBytes = 8 * 1024 * 1024;

    private readonly string _path;
    private readonly Lock _gate = new();
    /// <summary>How long a change waits before the file is written (changes meanwhile go in the same write).</summary>
    public static readonly TimeSpan SaveDelay = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, long> _byHash;
    private readonly ConditionalWeakTable<TorrentHandle, StrongBox<long>> _numbers = []; // each handle's number, read without the gate
    private long _next;
    private bool _saveScheduled; // under the gate

    public TransmissionIds(string path)
    {
        _path = path;
        Saved saved = Read(path);
        _byHash = new Dictionary<string, long>(saved.Ids.Where(p => TorrentCatalog.IsId(p.Key) && p.Value > 0), StringComparer.Ordinal);
        _next = Math.Max(saved.Next, _byHash.Count == 0 ? 1 : _byHash.Values.Max() + 1);
    }

    /// <summary>Each torrent's number, numbering those seen for the first time in the node's order (and keeping them).</summary>
    public Dictionary<TorrentHandle, long> Number(IReadOnlyList<TorrentHandle> torrents)
    {
        var numbers = new Dictionary<TorrentHandle, long>(torrents.Count);
        List<TorrentHandle>? unknown = null;
        foreach (TorrentHandle torrent in torrents)
        {
            if (_numbers.TryGetValue(torrent, out StrongBox<long>? known))
            {
                numbers[torrent] = known.Value;
            }
            else
            {
                (unknown ??= []).Add(torrent);
            }
        }

        if (unknown is null)
        {
            return numbers;
        }

        lock (_gate)
        {
            foreach (TorrentHandle torrent in unknown)
            {
                string hash = NodeService.IdOf(torrent);
                if (!_byHash.TryGetValue(hash, out long id))
                {
                    _byHash[hash] = id = _next++;
                    ScheduleSave();
                }

                _numbers.AddOrUpdate(torrent, new StrongBox<long>(id));
                numbers[torrent] = id;
            }
        }

        return numbers;
    }

    /// <summary>One torrent's number (numbered now if it has none).</summary>
    public long Of(TorrentHandle torrent) => Number([torrent])[torrent];

    /// <summary>Forgets a removed torrent; its number, if it had one.</summary>
    public long? Forget(TorrentHandle torrent)
    {
        lock (_gate)
        {
            _numbers.Remove(torrent);
            if (!_byHash.Remove(NodeService.IdOf(torrent), out long id))
            {
                return null;
            }

            ScheduleSave();
            return id;
        }
    }

    /// <summary>Writes the numbers now if a change is waiting (the daemon's stop calls it).</summary>
    public void Flush()
    {
        lock (_gate)
        {
            if (_saveScheduled)
            {
                Save();
            }
        }
    }

    private void ScheduleSave()
    {
        if (!_saveScheduled)
        {
            _saveScheduled = true;
            _ = Task.Delay(SaveDelay).ContinueWith(_ => Flush(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }
    }

    private void Save()
    {
        _saveScheduled = false;
        try
        {
            AtomicFile.Write(_path, JsonSerializer.SerializeToUtf8Bytes(new Saved { Next = _next, Ids = _byHash }));
        }
        catch (IOException)
        {
            // The numbers are a convenience for clients: unsaved, they are given again at the next start.
        }
    }

    private static Saved Read(string path)
    {
        try
        {
            var file = new FileInfo(path);
            if (file.Exists && file.Length <= MaxFileBytes)
            {
                return JsonSerializer.Deserialize<Saved>(File.ReadAllBytes(path)) ?? new Saved();
            }
        }
        catch (JsonException)
        {
            // Unreadable: number afresh (only clients' numbers change; no torrent is lost).
        }

        return new Saved();
    }

    private sealed class Saved
    {
        public long Next { get; init; } = 1;

        public Dictionary<string, long> Ids { get; init; } = [];
    }
}
