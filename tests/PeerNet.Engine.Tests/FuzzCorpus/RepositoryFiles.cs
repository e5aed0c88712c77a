namespace PeerNet.Engine.Tests.FuzzCorpus;

/// <summary>Finds files checked into the repository (fuzz corpora, test data) from the test's output folder.</summary>
internal static class RepositoryFiles
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    /// <summary>The folder that holds PeerNet.slnx.</summary>
    public static string Root => RootLazy.Value;

    /// <summary>A path under the repository root.</summary>
    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PeerNet.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No PeerNet.slnx above {AppContext.BaseDirectory}.");
    }
}
