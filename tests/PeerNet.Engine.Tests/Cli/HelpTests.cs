using System.CommandLine;
using System.CommandLine.Help;
using PeerNet.Cli;
using PeerNet.Cli.Commands;
using PeerNet.Cli.Output;
using static PeerNet.Engine.Tests.Cli.CliRun;

namespace PeerNet.Engine.Tests.Cli;

/// <summary>What <c>--help</c>, the README and counted nouns tell a newcomer.</summary>
public sealed class HelpTests
{
    /// <summary>Every verb's command line ("dht put"), with its command, the root's included.</summary>
    private static IEnumerable<(string[] Path, Command Command)> Commands(Command command, string[] path)
    {
        yield return (path, command);
        foreach (Command sub in command.Subcommands)
        {
            foreach ((string[] Path, Command Command) inner in Commands(sub, [.. path, sub.Name]))
            {
                yield return inner;
            }
        }
    }

    private static IEnumerable<(string[] Path, Command Command)> AllCommands() => Commands(PeerNetCli.BuildRootCommand(), []);

    [Fact]
    public async Task Help_ShowsEachDefaultOnce()
    {
        foreach ((string[] path, Command _) in AllCommands())
        {
            (int exit, string output, _) = await RunAsync([.. path, "--help"]);
            Assert.Equal(0, exit);
            foreach (string line in output.Split('\n'))
            {
                int defaults = line.Split("default", StringSplitOptions.None).Length - 1 + line.Split("Default", StringSplitOptions.None).Length - 1;
                Assert.True(defaults <= 1, $"peernet {string.Join(' ', path)} --help repeats a default: {line.Trim()}");
            }
        }
    }

    [Fact]
    public async Task GetHelp_SaysMagnetLinksAreAccepted()
    {
        (int exit, string output, _) = await RunAsync("get", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("magnet link", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateHelp_SaysWhoNeedsV1()
    {
        (int exit, string output, _) = await RunAsync("create", "--help");
        Assert.Equal(0, exit);
        string v1 = Assert.Single(output.Split('\n'), l => l.TrimStart().StartsWith("--v1", StringComparison.Ordinal));
        Assert.Contains("refuse hybrids", v1, StringComparison.Ordinal);
        Assert.Contains("Transmission 3.00", v1, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_Hybrid_SaysInOneLineWhoRefusesIt_V1SaysNothing()
    {
        using var temp = new Storage.TempDirectory();
        string content = temp.Combine("f.bin");
        await File.WriteAllBytesAsync(content, new byte[5000], TestContext.Current.CancellationToken);

        (int exit, string output, string error) = await RunAsync("create", content, "-o", temp.Combine("default.torrent"));
        Assert.True(exit == 0, error);
        string note = Assert.Single(output.Split('\n'), l => l.Contains("hybrid", StringComparison.Ordinal));
        Assert.Contains("Transmission 3.00 and aria2 1.36", note, StringComparison.Ordinal);
        Assert.Contains("--v1", note, StringComparison.Ordinal);

        (exit, output, error) = await RunAsync("create", content, "--v1", "-o", temp.Combine("v1.torrent"));
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("hybrid", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// The README's synopsis names every option of every verb (in the verb's lines, or in PEER-OPTIONS or CLIENT-OPTIONS
    /// for the verbs that take them) and its text outside the synopsis says what each does.
    /// </summary>
    [Fact]
    public void Readme_DocumentsEveryOptionOfEveryCommand()
    {
        string readme = File.ReadAllText(FuzzCorpus.RepositoryFiles.Combine("README.md"));
        Dictionary<string, string> synopsis = Synopsis(readme, out string prose);
        var missing = new List<string>();
        foreach ((string[] path, Command command) in AllCommands().Where(c => c.Path.Length > 0))
        {
            string verb = string.Join(' ', path);
            string lines = synopsis.GetValueOrDefault(verb, "");
            foreach (string group in synopsis.Keys.Where(k => k.EndsWith("-OPTIONS", StringComparison.Ordinal) && lines.Contains(k, StringComparison.Ordinal)))
            {
                lines += synopsis[group];
            }

            foreach (Option option in command.Options.Where(o => o is not HelpOption and not VersionOption))
            {
                string[] names = [option.Name, .. option.Aliases];
                if (!names.Any(n => Mentions(lines, n)))
                {
                    missing.Add($"{verb} {option.Name} (synopsis)");
                }

                if (!names.Any(n => Mentions(prose, n)))
                {
                    missing.Add($"{verb} {option.Name} (what it does)");
                }
            }
        }

        Assert.True(missing.Count == 0, "README.md does not document: " + string.Join(", ", missing));
    }

    private static bool Mentions(string text, string option)
        => System.Text.RegularExpressions.Regex.IsMatch(text, $@"(?<![\w-]){System.Text.RegularExpressions.Regex.Escape(option)}(?![\w-])");

    /// <summary>The README's <c>peernet</c> synopsis block, by verb ("get", "dht put"), continuation lines included.</summary>
    private static Dictionary<string, string> Synopsis(string readme, out string prose)
    {
        int start = readme.IndexOf("```sh\npeernet create", StringComparison.Ordinal);
        int end = readme.IndexOf("\n```", start + 5, StringComparison.Ordinal);
        string block = readme[start..end];
        prose = readme[..start] + readme[end..];
        var verbs = new Dictionary<string, string>();
        string current = "";
        foreach (string line in block.Split('\n').Skip(1))
        {
            string trimmed = line.Trim();
            if (line.StartsWith("peernet ", StringComparison.Ordinal))
            {
                string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                current = words.Length > 2 && ((words[1] == "dht" && words[2] is "put" or "get") || words[1] == "store") ? $"{words[1]} {words[2]}" : words[1];
            }
            else if (System.Text.RegularExpressions.Regex.Match(trimmed, "^([A-Z]+-OPTIONS):") is { Success: true } group)
            {
                current = group.Groups[1].Value; // PEER-OPTIONS, CLIENT-OPTIONS: the options a group of verbs shares
            }

            verbs[current] = verbs.GetValueOrDefault(current, "") + " " + trimmed;
        }

        return verbs;
    }

    [Theory]
    [InlineData(0, "0 peers")]
    [InlineData(1, "1 peer")]
    [InlineData(2, "2 peers")]
    public void Count_AgreesWithTheNumber(long count, string expected) => Assert.Equal(expected, Count.Of(count, "peer"));

    [Fact]
    public void StatusLines_OnePeerOneBucket_AreSingular()
    {
        var status = new TorrentStatus { Name = "x", InfoHashes = new InfoHashes(Sha1Hash.Compute([1]), null), State = TorrentState.Downloading, Peers = 1 };
        Assert.Contains("1 peer", TransferView.Describe(status), StringComparison.Ordinal);
        Assert.DoesNotContain("1 peers", TransferView.Describe(status), StringComparison.Ordinal);

        var stats = new PeerNet.Discovery.Dht.DhtStats("00", 1, 1, 1, 0, 0, 0, 1, 0, null, 0, 0, 0);
        string line = DhtCommand.Describe(stats);
        Assert.Contains("in 1 bucket;", line, StringComparison.Ordinal);
        Assert.Contains("stored 1 info-hash, 0 peers;", line, StringComparison.Ordinal);
    }
}
