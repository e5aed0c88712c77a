using System.Globalization;
using System.Text;

namespace PeerNet.Grid;

/// <summary>
/// What the owner put, kept in <c>grid/owned.txt</c> under the state folder (in memory without one): one line per
/// file, tab-separated (capability, size, k, n, time, healthy shares, share=peer list), rewritten whole to a temporary
/// file, synced and renamed, so a crash leaves the old list or the new one.
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

    public void Put(GridStoredFile file)
    {
        lock (_gate)
        {
            _files[file.Capability] = file;
            if (_path is null)
            {
                return;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            var text = new StringBuilder();
            foreach (GridStoredFile f in _files.Values.OrderBy(f => f.StoredAt))
            {
                text.Append(CultureInfo.InvariantCulture, $"{f.Capability}\t{f.Size}\t{f.K}\t{f.N}\t{f.StoredAt.ToUnixTimeMilliseconds()}\t{f.HealthyShares}\t")
                    .AppendJoin(',', f.Shares.OrderBy(s => s.Key).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key}={s.Value}")))
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
        if (f.Length != 7 || !GridCapability.TryParse(f[0], out _, out _)
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

        return new GridStoredFile { Capability = f[0], Size = size, K = k, N = n, StoredAt = DateTimeOffset.FromUnixTimeMilliseconds(at), HealthyShares = healthy, Shares = shares };
    }
}
