using PeerNet.Bencode;
using PeerNet.Metainfo;
using static PeerNet.Engine.Tests.Creation.CreationTestKit;

namespace PeerNet.Engine.Tests.Creation;

/// <summary>
/// The info dictionary and piece layers byte-for-byte against libtorrent 2.0's <c>create_torrent</c>, through
/// python3-libtorrent (skipped without it, failed without it where CI requires it). libtorrent gets the files in
/// canonical order.
/// </summary>
public sealed class LibtorrentComparisonTests
{
    private const string Script = """
        import libtorrent as lt, os, sys, stat
        src = os.path.abspath(sys.argv[1]); parent, name = os.path.split(src)
        files = []
        for root, dirs, names in os.walk(src):
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
            for f in names:
                p = os.path.join(root, f)
                if os.path.isfile(p):
                    files.append([name] + os.path.relpath(p, src).split(os.sep))
        files.sort(key=lambda segs: [s.encode() for s in segs])
        for config in sys.argv[2:]:
            version, piece = config.split(":")
            fs = lt.file_storage()
            for segs in files:
                st = os.stat(os.path.join(parent, *segs))
                fs.add_file("/".join(segs), st.st_size, lt.file_storage.flag_executable if st.st_mode & stat.S_IXUSR else 0)
            flags = {"V1": lt.create_torrent.v1_only, "V2": lt.create_torrent.v2_only, "Hybrid": 0}[version]
            ct = lt.create_torrent(fs, int(piece), flags=flags)
            lt.set_piece_hashes(ct, parent)
            e = ct.generate()
            layers = lt.bencode(e[b"piece layers"]).hex() if b"piece layers" in e else "-"
            print(config, lt.bencode(e[b"info"]).hex(), layers)
        """;

    [Fact]
    public async Task InfoAndPieceLayers_MatchLibtorrent_ForEveryVersion()
    {
        // The interop suite's policy: a visible skip without python3-libtorrent, a failure where
        // PEERNET_REQUIRE_INTEROP=1 (CI) requires it.
        ReferenceTools.Require(ReferenceTool.Libtorrent);

        using var tree = new TempTree();
        tree.Write("a.c", 3000, 1);
        tree.Write("a/b", 20000, 2);
        tree.Write(".hidden", 70000, 3);
        tree.Write("empty", 0);
        tree.Write("exact", 4 * Block, 4);
        tree.Write("big/one", 300_000, 5);
        tree.Write("z", 5, 6);
        tree.Write("\u00fc.txt", 17, 7);
        if (!OperatingSystem.IsWindows())
        {
            string run = Path.Combine(tree.Content, "a", "run");
            TempTree.WriteAt(run, 1000, 8);
            File.SetUnixFileMode(run, File.GetUnixFileMode(run) | UnixFileMode.UserExecute);
        }

        string script = Path.Combine(tree.Root, "make.py");
        await File.WriteAllTextAsync(script, Script, TestContext.Current.CancellationToken);
        string[] configs = [.. from v in new[] { TorrentVersion.V1, TorrentVersion.V2, TorrentVersion.Hybrid } from p in new[] { 16384, 65536 } select $"{v}:{p}"];
        string output = (await ProcessRunner.RunAsync(ReferenceTools.SystemPython, [script, tree.Content, .. configs], TimeSpan.FromSeconds(120), cancellationToken: TestContext.Current.CancellationToken)).StandardOutput;

        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(configs.Length, lines.Length);
        foreach (string line in lines)
        {
            string[] parts = line.Split(' ');
            string[] config = parts[0].Split(':');
            var version = Enum.Parse<TorrentVersion>(config[0]);
            using BencodeDocument doc = await CreateAsync(Options(tree.Content, version, long.Parse(config[1])));
            Assert.True(parts[1] == Convert.ToHexStringLower(doc.Root["info"u8].RawSpan), $"info differs for {parts[0]}");
            string layers = doc.Root["piece layers"u8].Exists ? Convert.ToHexStringLower(doc.Root["piece layers"u8].RawSpan) : "-";
            Assert.True(parts[2] == layers, $"piece layers differ for {parts[0]}");
        }
    }
}
