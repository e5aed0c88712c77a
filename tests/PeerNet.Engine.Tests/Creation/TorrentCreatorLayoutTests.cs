using PeerNet.Bencode;
using PeerNet.Metainfo;
using static PeerNet.Engine.Tests.Creation.CreationTestKit;

namespace PeerNet.Engine.Tests.Creation;

/// <summary>What goes where in the info dictionary: keys, file order, pads, attributes, single-file forms.</summary>
public sealed class TorrentCreatorLayoutTests
{
    private static TempTree SampleTree()
    {
        var tree = new TempTree();
        tree.Write("a.c", 3000, 1);
        tree.Write("a/b", 20000, 2);
        tree.Write("empty", 0);
        tree.Write("z/exact", Block, 3);
        return tree;
    }

    [Fact]
    public async Task V1_MultiFile_HasV1KeysOnly_InSortedOrder()
    {
        using TempTree tree = SampleTree();
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, TorrentVersion.V1));
        Assert.Equal(["info"], Keys(doc.Root));
        Assert.Equal(["files", "name", "piece length", "pieces"], Keys(doc.Root["info"u8]));
        Assert.Equal("content", Str(doc.Root["info"u8]["name"u8]));
        AssertCanonical(doc.Root);
    }

    [Fact]
    public async Task V2_MultiFile_HasV2KeysAndPieceLayers()
    {
        using TempTree tree = SampleTree();
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, TorrentVersion.V2));
        Assert.Equal(["info", "piece layers"], Keys(doc.Root));
        Assert.Equal(["file tree", "meta version", "name", "piece length"], Keys(doc.Root["info"u8]));
        Assert.Equal(2, Int(doc.Root["info"u8]["meta version"u8]));
        AssertCanonical(doc.Root);
    }

    [Fact]
    public async Task Hybrid_MultiFile_HasBothKeySets()
    {
        using TempTree tree = SampleTree();
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, TorrentVersion.Hybrid) with { IsPrivate = true });
        Assert.Equal(["info", "piece layers"], Keys(doc.Root));
        Assert.Equal(["file tree", "files", "meta version", "name", "piece length", "pieces", "private"], Keys(doc.Root["info"u8]));
        Assert.Equal(1, Int(doc.Root["info"u8]["private"u8]));
        AssertCanonical(doc.Root);
    }

    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task Files_AreInCanonicalTreeOrder_FolderBeforeSiblingWithDot(TorrentVersion version)
    {
        using TempTree tree = SampleTree();
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, version));
        var paths = new List<string>();
        foreach (BencodeNode file in doc.Root["info"u8]["files"u8].Items)
        {
            if (!file["attr"u8].StringEquals("p"u8))
            {
                paths.Add(string.Join('/', FilePath(file)));
            }
        }

        Assert.Equal(["a/b", "a.c", "empty", "z/exact"], paths);
    }

    [Fact]
    public async Task V2_FileTree_NestsFoldersAndSortsKeys()
    {
        using TempTree tree = SampleTree();
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, TorrentVersion.V2));
        BencodeNode fileTree = doc.Root["info"u8]["file tree"u8];
        Assert.Equal(["a", "a.c", "empty", "z"], Keys(fileTree));
        Assert.Equal(["b"], Keys(fileTree["a"u8]));
        Assert.Equal(["length", "pieces root"], Keys(Leaf(doc.Root["info"u8], "a", "b")));
        Assert.Equal(20000, Int(Leaf(doc.Root["info"u8], "a", "b")["length"u8]));
    }

    [Fact]
    public async Task Hybrid_PadsFollowEveryPartialNonEmptyFile_IncludingTheLast()
    {
        using var tree = new TempTree();
        tree.Write("a", 40000, 1);
        tree.Write("b", 2 * Block, 2);
        tree.Write("c", 0);
        tree.Write("d", 5, 3);
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, TorrentVersion.Hybrid));
        var entries = new List<(string Attr, long Length, string Path)>();
        foreach (BencodeNode file in doc.Root["info"u8]["files"u8].Items)
        {
            entries.Add((file["attr"u8].GetString() ?? "", Int(file["length"u8]), string.Join('/', FilePath(file))));
        }

        Assert.Equal(
            [
                ("", 40000, "a"),
                ("p", (3 * Block) - 40000, $".pad/{(3 * Block) - 40000}"),
                ("", 2 * Block, "b"),
                ("", 0, "c"),
                ("", 5, "d"),
                ("p", Block - 5, $".pad/{Block - 5}"),
            ],
            entries);
        foreach (BencodeNode file in doc.Root["info"u8]["files"u8].Items)
        {
            Assert.Equal(file["attr"u8].Exists ? ["attr", "length", "path"] : ["length", "path"], Keys(file));
        }
    }

    [Fact]
    public async Task V1_MultiFile_HasNoPadFiles()
    {
        using var tree = new TempTree();
        tree.Write("a", 40000, 1);
        tree.Write("b", 5, 2);
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, TorrentVersion.V1));
        Assert.Equal(2, doc.Root["info"u8]["files"u8].Count);
    }

    [Fact]
    public async Task EmptyFiles_AreListed_WithoutPiecesRootOrPad()
    {
        using TempTree tree = SampleTree();
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, TorrentVersion.Hybrid));
        BencodeNode leaf = Leaf(doc.Root["info"u8], "empty");
        Assert.Equal(["length"], Keys(leaf));
        Assert.Equal(0, Int(leaf["length"u8]));
        BencodeNode files = doc.Root["info"u8]["files"u8];
        int index = 0;
        foreach (BencodeNode file in files.Items)
        {
            if (FilePath(file) is ["empty"])
            {
                Assert.Equal(0, Int(file["length"u8]));
                Assert.False(files[index + 1]["attr"u8].StringEquals("p"u8));
            }

            index++;
        }
    }

    [Theory]
    [InlineData(TorrentVersion.V1, new[] { "length", "name", "piece length", "pieces" })]
    [InlineData(TorrentVersion.V2, new[] { "file tree", "meta version", "name", "piece length" })]
    [InlineData(TorrentVersion.Hybrid, new[] { "file tree", "length", "meta version", "name", "piece length", "pieces" })]
    public async Task SingleFile_UsesSingleFileForm(TorrentVersion version, string[] keys)
    {
        using var tree = new TempTree();
        string path = Path.Combine(tree.Root, "one.bin");
        byte[] data = TempTree.WriteAt(path, 30000);
        using BencodeDocument doc = await CreateAsync(Options(path, version));
        BencodeNode info = doc.Root["info"u8];
        Assert.Equal(keys, Keys(info));
        Assert.Equal("one.bin", Str(info["name"u8]));
        if (version != TorrentVersion.V2)
        {
            Assert.Equal(30000, Int(info["length"u8]));

            // No pad in the single-file form: the last piece is short.
            Assert.Equal(ReferenceV1Pieces(data, Block), info["pieces"u8].StringSpan.ToArray());
        }

        if (version != TorrentVersion.V1)
        {
            Assert.Equal(["one.bin"], Keys(info["file tree"u8]));
            Assert.Equal(ReferenceRoot(data), Leaf(info, "one.bin")["pieces root"u8].StringSpan.ToArray());
        }
    }

    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task ExecutableFiles_GetAttrX_Everywhere(TorrentVersion version)
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("Unix file modes only.");
            return;
        }

        using var tree = new TempTree();
        tree.Write("run.sh", 100, 1);
        tree.Write("data", 100, 2);
        string run = Path.Combine(tree.Content, "run.sh");
        File.SetUnixFileMode(run, File.GetUnixFileMode(run) | UnixFileMode.UserExecute);
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, version));
        BencodeNode info = doc.Root["info"u8];
        if (version != TorrentVersion.V1)
        {
            Assert.Equal("x", Str(Leaf(info, "run.sh")["attr"u8]));
            Assert.False(Leaf(info, "data")["attr"u8].Exists);
            Assert.Equal(["attr", "length", "pieces root"], Keys(Leaf(info, "run.sh")));
        }

        if (version != TorrentVersion.V2)
        {
            foreach (BencodeNode file in info["files"u8].Items)
            {
                string name = string.Join('/', FilePath(file));
                string? attr = file["attr"u8].GetString();
                Assert.Equal(name == "run.sh" ? "x" : name.StartsWith(".pad/", StringComparison.Ordinal) ? "p" : null, attr);
            }
        }

        // Single file: attr at info level (v1 keys), and in the v2 leaf.
        using BencodeDocument single = await CreateAsync(Options(run, version));
        BencodeNode singleInfo = single.Root["info"u8];
        Assert.Equal(version != TorrentVersion.V2, singleInfo["attr"u8].StringEquals("x"u8));
        if (version != TorrentVersion.V1)
        {
            Assert.Equal("x", Str(Leaf(singleInfo, "run.sh")["attr"u8]));
        }
    }

    [Fact]
    public async Task HiddenFilesAndFileSymlinks_AreIncluded_FolderSymlinksAreNot()
    {
        using var tree = new TempTree();
        tree.Write(".hidden/.dot", 10, 1);
        tree.Write("real/file", 20, 2);
        File.CreateSymbolicLink(Path.Combine(tree.Content, "link-to-file"), Path.Combine(tree.Content, "real", "file"));
        Directory.CreateSymbolicLink(Path.Combine(tree.Content, "link-to-dir"), Path.Combine(tree.Content, "real"));
        Directory.CreateSymbolicLink(Path.Combine(tree.Content, "real", "loop"), tree.Content);
        File.CreateSymbolicLink(Path.Combine(tree.Content, "dangling"), Path.Combine(tree.Root, "missing"));
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, TorrentVersion.V1));
        var paths = new List<string>();
        foreach (BencodeNode file in doc.Root["info"u8]["files"u8].Items)
        {
            paths.Add(string.Join('/', FilePath(file)) + ":" + Int(file["length"u8]));
        }

        Assert.Equal([".hidden/.dot:10", "link-to-file:20", "real/file:20"], paths);
    }

    [Fact]
    public async Task OuterDictionary_HasTrackersCommentDatesAndWebSeeds()
    {
        using TempTree tree = SampleTree();
        var date = new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, TorrentVersion.V1) with
        {
            Trackers = ["http://t1/announce", "udp://t2:6969"],
            WebSeeds = ["http://seed/"],
            Comment = "hello",
            CreatedBy = "test",
            CreationDate = date,
        });
        BencodeNode root = doc.Root;
        Assert.Equal(["announce", "announce-list", "comment", "created by", "creation date", "info", "url-list"], Keys(root));
        Assert.Equal("http://t1/announce", Str(root["announce"u8]));
        Assert.Equal(2, root["announce-list"u8].Count);
        Assert.Equal("udp://t2:6969", Str(root["announce-list"u8][1][0]));
        Assert.Equal(1, root["announce-list"u8][1].Count);
        Assert.Equal(date.ToUnixTimeSeconds(), Int(root["creation date"u8]));
        Assert.Equal("http://seed/", Str(root["url-list"u8]));

        using BencodeDocument two = await CreateAsync(Options(tree.Content, TorrentVersion.V1) with { WebSeeds = ["http://a/", "http://b/"], Trackers = ["http://t/"] });
        Assert.True(two.Root["url-list"u8].IsList);
        Assert.False(two.Root["announce-list"u8].Exists);
        Assert.False(two.Root["created by"u8].Exists);
    }
}
