using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

/// <summary>
/// A temporary parent/root (the save folder) beside parent/outside, where nothing may ever be written, for
/// tests that plant symbolic links in the root; and a way to store a whole torrent there.
/// </summary>
internal sealed class PlantedLinks : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _parent = new();

    public PlantedLinks()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Outside);
    }

    public string Parent => _parent.Path;

    public string Root => _parent.Combine("root");

    public string Outside => _parent.Combine("outside");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Opens storage at <paramref name="root"/>, writes every piece, creates the empty files and flushes.</summary>
    public static async Task StoreAsync(TestTorrent t, string root, StorageOptions? options = null)
    {
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, root, options);
        await TorrentStorageTests.WriteAllAsync(storage, t).WaitAsync(Timeout, Ct);
        storage.CreateEmptyFiles();
        await storage.FlushAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
    }

    /// <summary>
    /// Stores <paramref name="t"/> (by default <see cref="TorrentStorageTests.MultiFile"/>) in the root, expecting a
    /// <see cref="StorageErrorCode.PathEscapesRoot"/> refusal and nothing under outside changed; returns the refusal.
    /// </summary>
    public async Task<StorageException> AssertStoreRefusedAsync(TestTorrent? t = null, StorageOptions? options = null)
    {
        string[] before = SnapshotOutside();

        StorageException e = await Assert.ThrowsAsync<StorageException>(() => StoreAsync(t ?? TorrentStorageTests.MultiFile(), Root, options));

        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
        Assert.Equal(before, SnapshotOutside());
        return e;
    }

    /// <summary>Plants a link at <paramref name="relative"/> under the root whose target text is <paramref name="target"/>, verbatim.</summary>
    public void Link(string relative, string target) => File.CreateSymbolicLink(Path.Combine(Root, relative), target);

    /// <summary>outside/victim.txt, holding "precious".</summary>
    public string Victim()
    {
        string victim = Path.Combine(Outside, "victim.txt");
        File.WriteAllText(victim, "precious");
        return victim;
    }

    /// <summary>Every entry under outside with its length, without following links.</summary>
    public string[] SnapshotOutside() =>
        [.. Directory.EnumerateFileSystemEntries(Outside, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(p => $"{p} {(File.Exists(p) ? new FileInfo(p).Length : -1)}")
            .Order(StringComparer.Ordinal)];

    public void Dispose() => _parent.Dispose();
}
