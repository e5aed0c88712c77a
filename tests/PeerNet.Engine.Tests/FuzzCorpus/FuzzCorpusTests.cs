using PeerNet.Fuzz;

namespace PeerNet.Engine.Tests.FuzzCorpus;

/// <summary>
/// Runs every fuzz target over every file of its seed corpus (fuzz/corpus/TARGET) and of its regression seeds
/// (fuzz/regressions/TARGET: inputs that once crashed it), so no target goes stale between fuzzing campaigns
/// and no fixed crash comes back.
/// </summary>
public sealed class FuzzCorpusTests
{
    public static TheoryData<string> TargetNames => [.. Targets.All.Keys];

    [Theory]
    [MemberData(nameof(TargetNames))]
    public void Target_OverItsSeedCorpusAndRegressions_HoldsEveryInvariant(string name)
    {
        FuzzTarget target = Targets.All[name];
        string corpus = RepositoryFiles.Combine("fuzz", "corpus", name);
        Assert.True(Directory.Exists(corpus), $"fuzz target '{name}' has no seed corpus folder {corpus}");
        string[] seeds = Directory.GetFiles(corpus);
        Assert.True(seeds.Length > 0, $"fuzz target '{name}' has an empty seed corpus");

        string regressions = RepositoryFiles.Combine("fuzz", "regressions", name);
        string[] crashes = Directory.Exists(regressions) ? Directory.GetFiles(regressions) : [];
        foreach (string file in seeds.Concat(crashes).Order(StringComparer.Ordinal))
        {
            byte[] input = File.ReadAllBytes(file);
            try
            {
                target(input);
            }
            catch (Exception e)
            {
                Assert.Fail($"fuzz target '{name}' fails on {Path.GetRelativePath(RepositoryFiles.Root, file)}: {e}");
            }
        }
    }

    [Fact]
    public void EveryCorpusAndRegressionFolder_BelongsToARegisteredTarget()
    {
        foreach (string kind in new[] { "corpus", "regressions" })
        {
            string folder = RepositoryFiles.Combine("fuzz", kind);
            if (!Directory.Exists(folder))
            {
                continue;
            }

            foreach (string dir in Directory.GetDirectories(folder))
            {
                Assert.True(Targets.All.ContainsKey(Path.GetFileName(dir)), $"fuzz/{kind}/{Path.GetFileName(dir)} has no fuzz target");
            }
        }
    }
}
