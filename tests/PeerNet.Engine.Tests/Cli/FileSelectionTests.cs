using PeerNet.Cli.Commands;
using PeerNet.Engine.Tests.Storage;
using PeerNet.Metainfo;

namespace PeerNet.Engine.Tests.Cli;

public sealed class FileSelectionTests
{
    private static readonly IReadOnlyList<TorrentFile> Files = TestTorrent.Build(TorrentVersion.V1, 32 * 1024,
        [TestFile.Random("a", 10, 1), TestFile.Random("b", 10, 2), TestFile.Random("c", 10, 3), TestFile.Random("d", 10, 4), TestFile.Random("e", 10, 5)]).Metainfo.Files;

    [Theory]
    [InlineData("0", new[] { 4, 0, 0, 0, 0 })]
    [InlineData("1,3-4", new[] { 0, 4, 0, 4, 4 })]
    [InlineData(" 2 - 2 , 0 ", new[] { 4, 0, 4, 0, 0 })]
    public void Parse_IndicesAndRanges_GiveNormalPriorityToExactlyThose(string list, int[] expected)
        => Assert.Equal(expected, FileSelection.Parse(list, Files));

    [Theory]
    [InlineData("5")]    // past the last file
    [InlineData("-1")]
    [InlineData("3-1")]  // empty range
    [InlineData("a")]
    [InlineData(",")]    // selects nothing
    public void Parse_BadList_IsAClearFormatError(string list)
        => Assert.Throws<FormatException>(() => FileSelection.Parse(list, Files));
}
