using System.Diagnostics;

namespace PeerNet.Interop.Tests;

/// <summary>A process and its descendants, read from /proc (Linux, where the reference clients run).</summary>
internal static class ProcessTree
{
    private static readonly TimeSpan GoneTimeout = TimeSpan.FromSeconds(5);

    /// <summary><paramref name="rootId"/> and every process descending from it, now.</summary>
    public static IReadOnlyList<int> Snapshot(int rootId)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (int pid in AllProcessIds())
        {
            if (ReadStat(pid) is { } stat)
            {
                if (!children.TryGetValue(stat.ParentId, out List<int>? list))
                {
                    children[stat.ParentId] = list = [];
                }

                list.Add(pid);
            }
        }

        var tree = new List<int> { rootId };
        for (int i = 0; i < tree.Count; i++)
        {
            if (children.TryGetValue(tree[i], out List<int>? list))
            {
                tree.AddRange(list);
            }
        }

        return tree;
    }

    /// <summary>True when <paramref name="pid"/> no longer runs (absent, or a zombie waiting to be reaped).</summary>
    public static bool IsGone(int pid) => ReadStat(pid) is not { } stat || stat.State is 'Z' or 'X';

    /// <summary>
    /// Waits a few seconds for every process of <paramref name="tree"/> to be gone; fails the test naming the
    /// survivors otherwise (after killing them, so one failure does not leak into the next test).
    /// </summary>
    public static async Task AssertGoneAsync(IReadOnlyList<int> tree, string owner)
    {
        var clock = Stopwatch.StartNew();
        List<int> alive = [.. tree.Where(pid => !IsGone(pid))];
        while (alive.Count > 0 && clock.Elapsed < GoneTimeout)
        {
            await Task.Delay(50).ConfigureAwait(false);
            alive.RemoveAll(IsGone);
        }

        if (alive.Count == 0)
        {
            return;
        }

        string survivors = string.Join(", ", alive.Select(pid => $"{pid} ({CommandLine(pid)})"));
        foreach (int pid in alive)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
            }
            catch (ArgumentException)
            {
            }
            catch (InvalidOperationException)
            {
            }
        }

        Assert.Fail($"{owner}: processes still running {GoneTimeout.TotalSeconds:F0} s after the tree was killed: {survivors}");
    }

    private static IEnumerable<int> AllProcessIds()
    {
        if (!Directory.Exists("/proc"))
        {
            yield break;
        }

        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out int pid))
            {
                yield return pid;
            }
        }
    }

    /// <summary>State and parent from /proc/PID/stat ("pid (comm) S ppid ..."; comm may hold spaces and ')').</summary>
    private static (char State, int ParentId)? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        int close = text.LastIndexOf(')');
        string[] fields = text[(close + 2)..].Split(' ');
        return fields.Length > 1 && int.TryParse(fields[1], out int parent) ? (fields[0][0], parent) : null;
    }

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }
}
