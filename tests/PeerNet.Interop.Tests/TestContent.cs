namespace PeerNet.Interop.Tests;

/// <summary>Which files a torrent is made of.</summary>
public enum ContentSet
{
    /// <summary>One 100,000-byte file (not a multiple of the piece length).</summary>
    SingleFile,

    /// <summary>A folder with nested folders, an empty file, odd sizes, an executable, and names that sort differently by path and by component.</summary>
    MultiFile,
}

/// <summary>Deterministic test data on disk.</summary>
internal static class TestContent
{
    public const string SingleFileName = "single.bin";
    public const string FolderName = "data";

    /// <summary>
    /// The multi-file set, relative to the torrent's folder. <c>a/b</c> and <c>a.c</c> order differently by whole
    /// path ('.' &lt; '/') than by component ("a" &lt; "a.c"); sizes straddle the 16 KiB piece boundary.
    /// </summary>
    public static IReadOnlyList<(string Path, int Size, bool Executable)> MultiFileEntries { get; } =
    [
        ("a/b", 1, false),
        ("a.c", 16383, false),
        ("empty.txt", 0, false),
        ("sub/big.bin", 100000, false),
        ("sub/deeper/odd.bin", 16385, false),
        ("tools/run.sh", 777, true),
    ];

    /// <summary>Writes <paramref name="set"/> under <paramref name="parent"/> and returns the torrent's source path.</summary>
    public static string Write(ContentSet set, string parent)
    {
        Directory.CreateDirectory(parent);
        if (set == ContentSet.SingleFile)
        {
            string file = Path.Combine(parent, SingleFileName);
            WriteFile(file, 100000, seed: 1, executable: false);
            return file;
        }

        string root = Path.Combine(parent, FolderName);
        int seed = 10;
        foreach ((string relative, int size, bool executable) in MultiFileEntries)
        {
            WriteFile(Path.Combine(root, relative), size, seed++, executable);
        }

        return root;
    }

    private static void WriteFile(string path, int size, int seed, bool executable)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        byte[] data = new byte[size];
        new Random(seed).NextBytes(data);
        File.WriteAllBytes(path, data);
        if (executable && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }
    }
}
