using System.Globalization;
using System.Text;

namespace PeerNet.Grid;

/// <summary>
/// What the owner put, kept in <c>grid/owned.txt</c> under the state folder (in memory without one): one line per
/// file, tab-separated (capability, size, k, n, time put, healthy shares, share=peer list, last audit, last renewal;
/// times in Unix milliseconds, empty when unknown), rewritten whole to a temporary file, synced and renamed, so a crash
/// leaves the old list or the new one. Format 2 begins with the line <c># peernet grid owned 2</c> and adds the last two
/// fields; format 1 (no such line, seven fields) is still read, its files' audit and renewal taken as never done.
/// </summary>
internal sealed class GridRecords
{
    private readonly string? _path;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, GridStoredFile> _files = new(StringComparer.Ordinal);

    public GridRecords(string? path)
    {
        _path = path;
        if (path is not null && File.Exists(path))
        {
            foreach (string line in File.ReadAllLines(path))
            {
                if (Parse(line) is { } file)
                {
                    _files[file.Capability] = file;
                }
            }
        }
    }

    public IReadOnlyList<GridStoredFile> All()
    {
        lock (_gate)
        {
            return [.. _files.Values.OrderBy(f => f.StoredAt)];
        }
    }

    public GridStoredFile? Find(GridCapability capability)
    {
        lock (_gate)
        {
            return _files.Values.FirstOrDefault(f => GridCapability.TryParse(f.Capability, out GridCapability? c, out _)
                && c!.StorageIndex.Span.SequenceEqual(capability.StorageIndex.Span));
        }
    }

    private const string Header = "# peernet grid owned 2";

    public void Put(GridStoredFile file)
    {
        lock (_gate)
        {
            _files[file.Capability] = file;
            Save();
        }
    }

    /// <summary>
    /// Replaces the file recorded under <paramref name="capability"/> by what <paramref name="change"/> makes of it (under
    /// the lock, so concurrent changes do not undo each other); written at once with <paramref name="persist"/>, else at
    /// the next <see cref="Save"/>. False when the file is not (or no longer) recorded.
    /// </summary>
    public bool Update(string capability, Func<GridStoredFile, GridStoredFile> change, bool persist)
    {
        lock (_gate)
        {
            if (!_files.TryGetValue(capability, out GridStoredFile? file))
            {
                return false;
            }

            _files[capability] = change(file);
            if (persist)
            {
                Save();
            }

            return true;
        }
    }

    /// <summary>Writes the whole record: to a temporary file, synced, renamed over the old one, the folder synced.</summary>
    public void Save()
    {
        lock (_gate)
        {
            if (_path is null)
            {
                return;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            var text = new StringBuilder(Header).Append('\n');
            foreach (GridStoredFile f in _files.Values.OrderBy(f => f.StoredAt))
            {
                text.Append(CultureInfo.InvariantCulture, $"{f.Capability}\t{f.Size}\t{f.K}\t{f.N}\t{f.StoredAt.ToUnixTimeMilliseconds()}\t{f.HealthyShares}\t")
                    .AppendJoin(',', f.Shares.OrderBy(s => s.Key).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key}={s.Value}")))
                    .Append(CultureInfo.InvariantCulture, $"\t{f.LastChecked?.ToUnixTimeMilliseconds()}\t{f.LastRenewed?.ToUnixTimeMilliseconds()}")
                    .Append('\n');
            }

            string temporary = _path + ".tmp";
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
            {
                stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, _path, overwrite: true);
            GridShareFile.SyncDirectory(Path.GetDirectoryName(_path)!);
        }
    }

    private static GridStoredFile? Parse(string line)
    {
        string[] f = line.Split('\t');
        if (f.Length is not (7 or 9) || !GridCapability.TryParse(f[0], out _, out _)
            || !long.TryParse(f[1], CultureInfo.InvariantCulture, out long size) || !int.TryParse(f[2], CultureInfo.InvariantCulture, out int k)
            || !int.TryParse(f[3], CultureInfo.InvariantCulture, out int n) || !long.TryParse(f[4], CultureInfo.InvariantCulture, out long at)
            || !int.TryParse(f[5], CultureInfo.InvariantCulture, out int healthy))
        {
            return null;
        }

        var shares = new Dictionary<int, string>();
        foreach (string pair in f[6].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] p = pair.Split('=');
            if (p.Length == 2 && int.TryParse(p[0], CultureInfo.InvariantCulture, out int share))
            {
                shares[share] = p[1];
            }
        }

        return new GridStoredFile
        {
            Capability = f[0],
            Size = size,
            K = k,
            N = n,
            StoredAt = DateTimeOffset.FromUnixTimeMilliseconds(at),
            HealthyShares = healthy,
            Shares = shares,
            LastChecked = f.Length == 9 ? Time(f[7]) : null,
            LastRenewed = f.Length == 9 ? Time(f[8]) : null,
        };
    }

    private static DateTimeOffset? Time(string field)
        => long.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out long ms) && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
}
