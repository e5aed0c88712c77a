using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

public sealed class ResumeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A downloaded torrent with every piece verified, and its resume store.</summary>
    private sealed class Fixture : IAsyncDisposable
    {
        private Fixture(TempDirectory dir, TestTorrent torrent, TorrentStorage storage, ResumeStore store, FakeFileSystem fs)
        {
            Dir = dir;
            Torrent = torrent;
            Storage = storage;
            Store = store;
            Fs = fs;
        }

        public TempDirectory Dir { get; }

        public TestTorrent Torrent { get; }

        public TorrentStorage Storage { get; }

        public ResumeStore Store { get; }

        public FakeFileSystem Fs { get; }

        public string ResumePath => Store.GetPath(Torrent.Metainfo.InfoHashes);

        public static async Task<Fixture> CreateAsync(TorrentVersion version = TorrentVersion.Hybrid)
        {
            var dir = new TempDirectory();
            TestTorrent t = TestTorrent.Build(version, 32 * 1024, [TestFile.Random("a", 100_000, 1), TestFile.Random("b", 50_000, 2), new TestFile("e", [])]);
            var fs = new FakeFileSystem();
            TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Combine("data"), new StorageOptions { FileSystem = fs });
            await TorrentStorageTests.WriteAllAsync(storage, t);
            await storage.FlushAsync(TestContext.Current.CancellationToken);
            return new Fixture(dir, t, storage, new ResumeStore(dir.Combine("resume"), fs), fs);
        }

        public PieceBitfield All()
        {
            var all = new PieceBitfield(Torrent.Metainfo.PieceCount);
            for (int i = 0; i < all.Count; i++)
            {
                all.Set(i);
            }

            return all;
        }

        public async ValueTask DisposeAsync()
        {
            await Storage.DisposeAsync();
            Dir.Dispose();
        }
    }

    [Fact]
    public async Task SaveThenLoad_UnchangedFiles_TrustsEveryPiece()
    {
        await using Fixture f = await Fixture.CreateAsync();
        var time = new FixedTime(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero));

        f.Store.Save(ResumeData.Capture(f.Storage, f.All(), time));
        ResumeLoadResult r = f.Store.Load(f.Storage);

        Assert.True(r.Loaded, r.Error);
        Assert.True(r.Trusted.IsComplete);
        Assert.Equal(0, r.Recheck.SetCount);
        Assert.Empty(r.ChangedFiles);
        Assert.False(File.Exists(f.ResumePath + ".tmp"));
        Assert.Equal(1, f.Fs.DirectoryFlushes);
    }

    [Fact]
    public async Task EncodeDecode_RoundTripsEveryField()
    {
        await using Fixture f = await Fixture.CreateAsync();
        var verified = new PieceBitfield(f.Torrent.Metainfo.PieceCount);
        verified.Set(0);
        verified.Set(f.Torrent.Metainfo.PieceCount - 1);
        ResumeData data = ResumeData.Capture(f.Storage, verified, new FixedTime(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000)));

        Assert.True(ResumeData.TryDecode(data.Encode(), 10, 100, out ResumeData? decoded, out string? error), error);

        Assert.Equal(data.InfoHashes, decoded.InfoHashes);
        Assert.Equal(data.PieceLength, decoded.PieceLength);
        Assert.Equal(data.Pieces.ToBytes(), decoded.Pieces.ToBytes());
        Assert.Equal(data.Files, decoded.Files);
        Assert.Equal(data.SavedAt, decoded.SavedAt);
        Assert.Equal(ResumeFileState.Absent, decoded.Files[^1]);   // the empty file is not stored
        Assert.True(decoded.Files[0].ModifiedNs > 0);
    }

    [Fact]
    public async Task Load_NoResumeFile_NeedsFullCheck()
    {
        await using Fixture f = await Fixture.CreateAsync();

        ResumeLoadResult r = f.Store.Load(f.Storage);

        Assert.True(r.NeedsFullCheck);
        Assert.Equal("no resume file", r.Error);
        Assert.Equal(0, r.Trusted.SetCount);
    }

    [Fact]
    public async Task Load_FileGrewAfterSave_ItsPiecesGoToRecheck()
    {
        await using Fixture f = await Fixture.CreateAsync();
        f.Store.Save(ResumeData.Capture(f.Storage, f.All()));
        await f.Storage.DisposeAsync();

        int b = f.Torrent.Metainfo.Files.ToList().FindIndex(x => x.Path == "test/b");   // after a pad file
        await File.AppendAllTextAsync(f.Storage.GetFullPath(b), "x", Ct).WaitAsync(Timeout, Ct);
        ResumeLoadResult r = f.Store.Load(f.Storage);

        Assert.True(r.Loaded, r.Error);
        Assert.Equal([b], r.ChangedFiles);
        PieceRange range = f.Storage.Map.GetPieceRange(b);
        for (int p = 0; p < f.Torrent.Metainfo.PieceCount; p++)
        {
            Assert.Equal(range.Contains(p), r.Recheck[p]);
            Assert.Equal(!range.Contains(p), r.Trusted[p]);
        }
    }

    [Fact]
    public async Task Load_FileTouchedAfterSave_ItsPiecesGoToRecheck()
    {
        await using Fixture f = await Fixture.CreateAsync();
        f.Store.Save(ResumeData.Capture(f.Storage, f.All()));

        File.SetLastWriteTimeUtc(f.Storage.GetFullPath(0), DateTime.UtcNow.AddMinutes(5));
        ResumeLoadResult r = f.Store.Load(f.Storage);

        Assert.Equal([0], r.ChangedFiles);
        Assert.True(r.Recheck[0]);
        Assert.False(r.Trusted[0]);
    }

    [Fact]
    public async Task Load_FileDeletedAfterSave_ItsPiecesGoToRecheck()
    {
        await using Fixture f = await Fixture.CreateAsync();
        f.Store.Save(ResumeData.Capture(f.Storage, f.All()));
        await f.Storage.DisposeAsync();

        File.Delete(f.Storage.GetFullPath(0));
        ResumeLoadResult r = f.Store.Load(f.Storage);

        Assert.Equal([0], r.ChangedFiles);
        Assert.Equal(f.Storage.Map.GetPieceRange(0).Count, r.Recheck.SetCount);
    }

    [Fact]
    public async Task Load_ClaimedPieceOfFileAbsentAtSave_IsNotTrusted()
    {
        await using Fixture f = await Fixture.CreateAsync();
        ResumeData real = ResumeData.Capture(f.Storage, f.All());
        var forged = new ResumeData
        {
            InfoHashes = real.InfoHashes,
            PieceLength = real.PieceLength,
            Pieces = real.Pieces,
            Files = [ResumeFileState.Absent, .. real.Files.Skip(1)],
        };

        ResumeLoadResult r = ResumeStore.Validate(forged, f.Storage);

        Assert.Equal([0], r.ChangedFiles);
        Assert.False(r.Trusted[0]);
        Assert.True(r.Recheck[0]);
    }

    public static TheoryData<string> Corruptions => ["truncated", "random", "empty", "not a dictionary", "wrong format", "newer version", "spare bit", "short bitfield", "huge"];

    [Theory]
    [MemberData(nameof(Corruptions))]
    public async Task Load_CorruptResumeFile_IsRejectedWithAReason(string corruption)
    {
        await using Fixture f = await Fixture.CreateAsync();
        f.Store.Save(ResumeData.Capture(f.Storage, f.All()));
        byte[] good = await File.ReadAllBytesAsync(f.ResumePath, Ct).WaitAsync(Timeout, Ct);
        string text = System.Text.Encoding.Latin1.GetString(good);
        int pieceCount = f.Torrent.Metainfo.PieceCount;
        byte[] bad = corruption switch
        {
            "truncated" => good[..(good.Length / 2)],
            "random" => RandomBytes(good.Length),
            "empty" => [],
            "not a dictionary" => "li1ee"u8.ToArray(),
            "wrong format" => Latin1(text.Replace("14:peernet-resume", "14:qeernet-resume", StringComparison.Ordinal)),
            "newer version" => Latin1(text.Replace("7:versioni1e", "7:versioni2e", StringComparison.Ordinal)),
            "spare bit" => SetLastByte(good, text, pieceCount, 0x01),
            "short bitfield" => Latin1(text.Replace($"6:pieces{(pieceCount + 7) / 8}:", $"6:pieces{((pieceCount + 7) / 8) - 1}:", StringComparison.Ordinal)),
            "huge" => new byte[1 << 20],
            _ => throw new ArgumentException(corruption),
        };
        Assert.NotEqual(good, bad);
        await File.WriteAllBytesAsync(f.ResumePath, bad, Ct).WaitAsync(Timeout, Ct);

        ResumeLoadResult r = f.Store.Load(f.Storage);

        TestContext.Current.TestOutputHelper?.WriteLine($"{corruption}: {r.Error}");
        Assert.False(r.Loaded);
        Assert.True(r.NeedsFullCheck);
        Assert.False(string.IsNullOrEmpty(r.Error));
        Assert.Equal(0, r.Trusted.SetCount);
    }

    [Fact]
    public async Task Load_ResumeOfAnotherTorrent_IsRejected()
    {
        await using Fixture f = await Fixture.CreateAsync();
        await using Fixture other = await Fixture.CreateAsync(TorrentVersion.V1);
        other.Store.Save(ResumeData.Capture(other.Storage, other.All()));

        // Put the other torrent's resume file where this torrent looks for its own.
        Directory.CreateDirectory(f.Store.Directory);
        File.Copy(other.ResumePath, f.ResumePath);
        ResumeLoadResult r = f.Store.Load(f.Storage);

        Assert.False(r.Loaded);
        Assert.Contains("another torrent", r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_DifferentLayout_IsRejected()
    {
        await using Fixture f = await Fixture.CreateAsync();
        ResumeData real = ResumeData.Capture(f.Storage, f.All());
        var wrong = new ResumeData { InfoHashes = real.InfoHashes, PieceLength = real.PieceLength * 2, Pieces = real.Pieces, Files = real.Files };

        ResumeLoadResult r = ResumeStore.Validate(wrong, f.Storage);

        Assert.False(r.Loaded);
        Assert.Contains("layout", r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TryDecode_EveryMutationOfAValidFile_NeverThrows()
    {
        await using Fixture f = await Fixture.CreateAsync();
        byte[] good = ResumeData.Capture(f.Storage, f.All()).Encode();
        var random = new Random(1);
        for (int n = 0; n < 5_000; n++)
        {
            byte[] mutated = (byte[])good.Clone();
            int edits = random.Next(1, 4);
            for (int e = 0; e < edits; e++)
            {
                mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            }

            byte[] input = random.Next(4) == 0 ? mutated[..random.Next(mutated.Length)] : mutated;
            if (ResumeData.TryDecode(input, f.Storage.Map.FileCount, f.Storage.Map.PieceCount, out ResumeData? data, out _))
            {
                _ = ResumeStore.Validate(data, f.Storage);
            }
        }
    }

    [Fact]
    public async Task Save_DiskFullDuringRename_KeepsTheOldFileAndRemovesTheTemporary()
    {
        await using Fixture f = await Fixture.CreateAsync();
        var first = new PieceBitfield(f.Torrent.Metainfo.PieceCount);
        first.Set(0);
        f.Store.Save(ResumeData.Capture(f.Storage, first));
        byte[] before = await File.ReadAllBytesAsync(f.ResumePath, Ct).WaitAsync(Timeout, Ct);

        f.Fs.MoveFault = FakeFileSystem.DiskFull;
        Assert.Throws<StorageFullException>(() => f.Store.Save(ResumeData.Capture(f.Storage, f.All())));

        Assert.Equal(before, await File.ReadAllBytesAsync(f.ResumePath, Ct).WaitAsync(Timeout, Ct));
        Assert.False(File.Exists(f.ResumePath + ".tmp"));
        ResumeLoadResult r = f.Store.Load(f.Storage);
        Assert.Equal(1, r.Trusted.SetCount);
    }

    [Fact]
    public async Task Delete_RemovesTheResumeFile()
    {
        await using Fixture f = await Fixture.CreateAsync();
        f.Store.Save(ResumeData.Capture(f.Storage, f.All()));

        f.Store.Delete(f.Torrent.Metainfo.InfoHashes);

        Assert.False(File.Exists(f.ResumePath));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static byte[] RandomBytes(int length)
    {
        byte[] bytes = new byte[length];
        new Random(3).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Latin1(string s) => System.Text.Encoding.Latin1.GetBytes(s);

    private static byte[] SetLastByte(byte[] good, string text, int pieceCount, byte bits)
    {
        string key = $"6:pieces{(pieceCount + 7) / 8}:";
        int at = text.IndexOf(key, StringComparison.Ordinal) + key.Length + ((pieceCount + 7) / 8) - 1;
        byte[] copy = (byte[])good.Clone();
        copy[at] |= bits;
        return copy;
    }
}
