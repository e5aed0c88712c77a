using System.Text.RegularExpressions;
using PeerNet.Engine.Tests.FuzzCorpus;

namespace PeerNet.Engine.Tests.Architecture;

/// <summary>
/// The layers of ARCHITECTURE.md hold in the source: no folder imports one that imports it back. A unit is a namespace
/// (PeerNet.Swarm, PeerNet.Discovery.Dht, ...), except for the root namespace PeerNet, which several folders share (the
/// codecs' value types, the engine's status vocabulary, the node façade): there a unit is the folder. A unit depends on
/// another when one of its files imports its namespace, names it qualified, or names a root-namespace type declared in
/// it.
/// </summary>
public sealed partial class LayerTests
{
    [Fact]
    public void SourceUnits_FormNoCycle()
    {
        Dictionary<string, List<SourceFile>> units = ReadUnits();
        Dictionary<string, HashSet<string>> graph = BuildGraph(units, out Dictionary<(string, string), string> why);
        List<List<string>> cycles = FindCycles(graph);
        Assert.True(cycles.Count == 0, "units that depend on each other:\n" + string.Join("\n", cycles.Select(c =>
            string.Join(" <-> ", c) + "\n  " + string.Join("\n  ", c.SelectMany(a => c.Where(b => graph[a].Contains(b)).Select(b => $"{a} -> {b}: {why[(a, b)]}"))))));
        Assert.True(graph.Count > 20, $"only {graph.Count} units found: the scan missed the sources");
    }

    [Fact]
    public void Cli_UsesNoInternalEngineType_ItHasNoInternalsVisibleTo()
    {
        string engine = File.ReadAllText(RepositoryFiles.Combine("src", "PeerNet.Engine", "PeerNet.Engine.csproj"));
        Assert.DoesNotContain("InternalsVisibleTo Include=\"peernet\"", engine, StringComparison.Ordinal);
        string codecs = File.ReadAllText(RepositoryFiles.Combine("src", "PeerNet.Codecs", "PeerNet.Codecs.csproj"));
        Assert.DoesNotContain("InternalsVisibleTo Include=\"peernet\"", codecs, StringComparison.Ordinal);
    }

    private sealed record SourceFile(string Path, string Namespace, string Text);

    private static Dictionary<string, List<SourceFile>> ReadUnits()
    {
        var units = new Dictionary<string, List<SourceFile>>(StringComparer.Ordinal);
        string src = RepositoryFiles.Combine("src");
        foreach (string path in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            string relative = System.IO.Path.GetRelativePath(src, path).Replace('\\', '/');
            if (relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal))
            {
                continue;
            }

            string text = File.ReadAllText(path);
            if (NamespacePattern().Match(text) is not { Success: true } ns)
            {
                continue;
            }

            string unit = UnitOf(ns.Groups[1].Value, relative);
            if (!units.TryGetValue(unit, out List<SourceFile>? files))
            {
                units[unit] = files = [];
            }

            files.Add(new SourceFile(relative, ns.Groups[1].Value, text));
        }

        return units;
    }

    /// <summary>A namespace, or for the root namespaces the project and folder (src/PeerNet.Engine/Node -> PeerNet@Engine/Node).</summary>
    private static string UnitOf(string ns, string relative)
    {
        if (ns is not ("PeerNet" or "PeerNet.Cli"))
        {
            return ns;
        }

        string[] parts = relative.Split('/');
        string project = parts[0].Replace("PeerNet.", "", StringComparison.Ordinal);
        return parts.Length > 2 ? $"{ns}@{project}/{parts[1]}" : $"{ns}@{project}";
    }

    private static Dictionary<string, HashSet<string>> BuildGraph(Dictionary<string, List<SourceFile>> units, out Dictionary<(string, string), string> why)
    {
        why = [];
        // Root-namespace types and the unit that declares each (PeerNetNode -> PeerNet@Engine/Node, Sha1Hash -> PeerNet@Codecs).
        var rootTypes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string unit, List<SourceFile> files) in units.Where(u => u.Key.Contains('@', StringComparison.Ordinal)))
        {
            foreach (SourceFile file in files)
            {
                foreach (Match m in DeclarationPattern().Matches(file.Text))
                {
                    rootTypes.TryAdd(m.Groups[1].Value, unit);
                }
            }
        }

        string[] namespaces = [.. units.Keys.Where(u => !u.Contains('@', StringComparison.Ordinal))];
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach ((string unit, List<SourceFile> files) in units)
        {
            var depends = new HashSet<string>(StringComparer.Ordinal);
            foreach (SourceFile file in files)
            {
                string code = StringPattern().Replace(CommentPattern().Replace(file.Text, ""), "\"\"");
                foreach (string ns in namespaces)
                {
                    string relativeName = ns.StartsWith("PeerNet.", StringComparison.Ordinal) ? ns["PeerNet.".Length..] : ns;
                    if (Regex.IsMatch(code, $@"(using {Regex.Escape(ns)};|\b{Regex.Escape(ns)}\.[A-Z]|(?<![\w.]){Regex.Escape(relativeName)}\.[A-Z])"))
                    {
                        depends.Add(ns);
                        why.TryAdd((unit, ns), $"{file.Path} names the namespace");
                    }
                }

                // A root type named where a type goes: after `new`, or not as a member (.X), a call or declaration (X(),
                // or an enum member alone on its line, whose names may well match a type's.
                foreach (Match m in TypeUsePattern().Matches(EnumMemberPattern().Replace(code, "")))
                {
                    if (rootTypes.TryGetValue(m.Groups["type"].Value, out string? declaring))
                    {
                        depends.Add(declaring);
                        why.TryAdd((unit, declaring), $"{file.Path} names {m.Groups["type"].Value}");
                    }
                }
            }

            depends.Remove(unit);
            graph[unit] = depends;
        }

        return graph;
    }

    /// <summary>Strongly connected components of more than one unit (Tarjan).</summary>
    private static List<List<string>> FindCycles(Dictionary<string, HashSet<string>> graph)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var cycles = new List<List<string>>();
        int next = 0;

        void Visit(string v)
        {
            index[v] = low[v] = next++;
            stack.Push(v);
            onStack.Add(v);
            foreach (string w in graph.GetValueOrDefault(v) ?? [])
            {
                if (!index.TryGetValue(w, out int seen))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w))
                {
                    low[v] = Math.Min(low[v], seen);
                }
            }

            if (low[v] == index[v])
            {
                var component = new List<string>();
                string w;
                do
                {
                    w = stack.Pop();
                    onStack.Remove(w);
                    component.Add(w);
                }
                while (w != v);
                if (component.Count > 1)
                {
                    cycles.Add(component);
                }
            }
        }

        foreach (string v in graph.Keys)
        {
            if (!index.ContainsKey(v))
            {
                Visit(v);
            }
        }

        return cycles;
    }

    [GeneratedRegex(@"^namespace ([\w.]+);", RegexOptions.Multiline)]
    private static partial Regex NamespacePattern();

    [GeneratedRegex(@"^(?:public|internal)\s+(?:static\s+|sealed\s+|abstract\s+|readonly\s+|partial\s+|record\s+)*(?:class|record|struct|enum|interface)\s+(\w+)", RegexOptions.Multiline)]
    private static partial Regex DeclarationPattern();

    [GeneratedRegex(@"\bnew\s+(?<type>[A-Z]\w*)\s*[({]|(?<![.\w])(?<type>[A-Z]\w*)\b(?!\s*[({=;])")]
    private static partial Regex TypeUsePattern();

    [GeneratedRegex(@"^\s*[A-Z]\w*(\s*=\s*[^,]+)?,?\s*$", RegexOptions.Multiline)]
    private static partial Regex EnumMemberPattern();

    [GeneratedRegex(@"//.*?$|/\*.*?\*/", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CommentPattern();

    /// <summary>String literals on one line (regular, verbatim, interpolated): their words are not code.</summary>
    [GeneratedRegex(""""[$@]*"(?:[^"\\\n]|\\.)*"""")]
    private static partial Regex StringPattern();
}
