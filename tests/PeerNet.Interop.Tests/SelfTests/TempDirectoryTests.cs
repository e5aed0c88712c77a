namespace PeerNet.Interop.Tests.SelfTests;

public sealed class TempDirectoryTests
{
    [Fact]
    public void TempDirectory_CreatedUnderRoot_DeletedOnDispose()
    {
        string path;
        using (var temp = new TempDirectory("we/ird name"))
        {
            path = temp.FullPath;
            Assert.True(Directory.Exists(path));
            Assert.Equal(TempDirectory.Root, Path.GetDirectoryName(path));
            Assert.StartsWith("we-ird-name-", Path.GetFileName(path), StringComparison.Ordinal);
            File.WriteAllText(temp.Combine("x.txt"), "x");
        }

        if (Environment.GetEnvironmentVariable("PEERNET_KEEP_TEMP") != "1")
        {
            Assert.False(Directory.Exists(path));
        }
    }

    [Fact]
    public void TempDirectory_TwoInstances_AreDistinct()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();

        Assert.NotEqual(a.FullPath, b.FullPath);
    }
}
