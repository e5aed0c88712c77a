using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PeerNet.Daemon.Tests;

/// <summary>
/// A strict reader of Prometheus' text exposition format (0.0.4), for the tests: every line is empty, a comment,
/// <c># HELP name text</c>, <c># TYPE name type</c> or a sample <c>name{label="value",...} value [timestamp]</c>; names
/// and label names are legal; a family's TYPE (and HELP) come once, before its samples, which are one group; no
/// series comes twice; a counter is named <c>..._total</c>; a histogram has <c>_bucket{le}</c>, <c>_sum</c>, <c>_count</c>.
/// Anything else throws <see cref="FormatException"/> naming the line.
/// </summary>
internal sealed partial class PrometheusText
{
    private readonly Dictionary<string, Family> _families = new(StringComparer.Ordinal);

    private PrometheusText()
    {
    }

    /// <summary>The families by name, in the order their TYPE came.</summary>
    public IReadOnlyDictionary<string, Family> Families => _families;

    /// <summary>Every sample.</summary>
    public List<Sample> Samples { get; } = [];

    public static PrometheusText Parse(string text)
    {
        var result = new PrometheusText();
        Family? current = null;
        var closed = new HashSet<string>(StringComparer.Ordinal);
        var series = new HashSet<string>(StringComparer.Ordinal);
        string[] lines = text.Split('\n');
        if (lines[^1].Length != 0)
        {
            throw new FormatException("the text does not end with a line feed");
        }

        for (int n = 0; n < lines.Length - 1; n++)
        {
            string line = lines[n];
            string where = $"line {n + 1}: '{line}'";
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                Match meta = MetaLine().Match(line);
                if (!meta.Success)
                {
                    continue; // a plain comment
                }

                string name = meta.Groups["name"].Value;
                if (!MetricName().IsMatch(name))
                {
                    throw new FormatException($"{where}: '{name}' is not a metric name");
                }

                if (closed.Contains(name) || (current is not null && current.Name != name && result._families.ContainsKey(name)))
                {
                    throw new FormatException($"{where}: the family {name} comes again after other lines");
                }

                if (!result._families.TryGetValue(name, out Family? family))
                {
                    family = new Family(name);
                    result._families[name] = family;
                }

                if (current is not null && current != family)
                {
                    closed.Add(current.Name);
                }

                current = family;
                if (family.Samples.Count > 0)
                {
                    throw new FormatException($"{where}: HELP or TYPE after the family's samples");
                }

                if (meta.Groups["kind"].Value == "HELP")
                {
                    family.Help = family.Help is null ? meta.Groups["rest"].Value : throw new FormatException($"{where}: a second HELP");
                }
                else
                {
                    string type = meta.Groups["rest"].Value;
                    if (type is not ("counter" or "gauge" or "histogram" or "summary" or "untyped"))
                    {
                        throw new FormatException($"{where}: unknown type '{type}'");
                    }

                    family.Type = family.Type is null ? type : throw new FormatException($"{where}: a second TYPE");
                }

                continue;
            }

            Sample sample = ParseSample(line, where);
            Family? owner = current is not null && current.Owns(sample.Name) ? current : null;
            if (owner is null)
            {
                // An untyped sample with no HELP or TYPE: a family of its own.
                if (result._families.ContainsKey(sample.Name) || closed.Contains(sample.Name))
                {
                    throw new FormatException($"{where}: a sample of {sample.Name} outside its family's group");
                }

                if (current is not null)
                {
                    closed.Add(current.Name);
                }

                owner = new Family(sample.Name) { Type = "untyped" };
                result._families[sample.Name] = owner;
                current = owner;
            }

            if (!series.Add(sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")) + "}"))
            {
                throw new FormatException($"{where}: the same series twice");
            }

            if (owner.Type == "histogram" && sample.Name.EndsWith("_bucket", StringComparison.Ordinal) && !sample.Labels.ContainsKey("le"))
            {
                throw new FormatException($"{where}: a histogram bucket without 'le'");
            }

            owner.Samples.Add(sample);
            result.Samples.Add(sample);
        }

        foreach (Family family in result._families.Values)
        {
            if (family.Type == "counter" && !family.Name.EndsWith("_total", StringComparison.Ordinal))
            {
                throw new FormatException($"the counter {family.Name} is not named ..._total");
            }

            if (family.Type is null)
            {
                throw new FormatException($"the family {family.Name} has HELP but no TYPE");
            }
        }

        return result;
    }

    /// <summary>The value of the one sample named <paramref name="name"/> whose labels include <paramref name="labels"/> ("k=v"); null if none.</summary>
    public double? Value(string name, params string[] labels)
    {
        Sample[] matches = [.. Samples.Where(s => s.Name == name && labels.All(l =>
        {
            string[] kv = l.Split('=', 2);
            return s.Labels.TryGetValue(kv[0], out string? v) && v == kv[1];
        }))];
        return matches.Length switch
        {
            0 => null,
            1 => matches[0].Value,
            _ => throw new InvalidOperationException($"{matches.Length} samples of {name} match {string.Join(",", labels)}"),
        };
    }

    private static Sample ParseSample(string line, string where)
    {
        int i = 0;
        while (i < line.Length && line[i] is not ('{' or ' '))
        {
            i++;
        }

        string name = line[..i];
        if (!MetricName().IsMatch(name))
        {
            throw new FormatException($"{where}: '{name}' is not a metric name");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                int eq = line.IndexOf('=', i);
                if (eq < 0)
                {
                    throw new FormatException($"{where}: a label without '='");
                }

                string label = line[i..eq];
                if (!LabelName().IsMatch(label) || line.Length <= eq + 1 || line[eq + 1] != '"')
                {
                    throw new FormatException($"{where}: bad label '{label}'");
                }

                var value = new StringBuilder();
                int j = eq + 2;
                for (; j < line.Length && line[j] != '"'; j++)
                {
                    if (line[j] == '\\')
                    {
                        j++;
                        value.Append(line[j] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            char c => throw new FormatException($"{where}: the escape '\\{c}' in a label value"),
                        });
                    }
                    else
                    {
                        value.Append(line[j]);
                    }
                }

                if (j >= line.Length)
                {
                    throw new FormatException($"{where}: an unterminated label value");
                }

                if (!labels.TryAdd(label, value.ToString()))
                {
                    throw new FormatException($"{where}: the label {label} twice");
                }

                i = j + 1;
                if (line[i] == ',')
                {
                    i++;
                }
                else if (line[i] != '}')
                {
                    throw new FormatException($"{where}: expected ',' or '}}' after a label");
                }
            }

            i++;
        }

        if (i >= line.Length || line[i] != ' ')
        {
            throw new FormatException($"{where}: no space before the value");
        }

        string[] rest = line[(i + 1)..].Split(' ');
        if (rest.Length is < 1 or > 2 || !TryParseValue(rest[0], out double number)
            || (rest.Length == 2 && !long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)))
        {
            throw new FormatException($"{where}: not 'value [timestamp]'");
        }

        return new Sample(name, labels, number);
    }

    private static bool TryParseValue(string text, out double value)
    {
        switch (text)
        {
            case "NaN":
                value = double.NaN;
                return true;
            case "+Inf":
                value = double.PositiveInfinity;
                return true;
            case "-Inf":
                value = double.NegativeInfinity;
                return true;
            default:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && !text.Contains(',', StringComparison.Ordinal);
        }
    }

    [GeneratedRegex("^# (?<kind>HELP|TYPE) (?<name>[^ ]+) ?(?<rest>.*)$")]
    private static partial Regex MetaLine();

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();

    /// <summary>One sample.</summary>
    internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    /// <summary>A metric family: its TYPE and HELP and its samples.</summary>
    internal sealed class Family(string name)
    {
        public string Name { get; } = name;

        public string? Type { get; set; }

        public string? Help { get; set; }

        public List<Sample> Samples { get; } = [];

        /// <summary>Whether a sample of this name belongs here (a histogram's or summary's suffixed samples do).</summary>
        public bool Owns(string sample) => sample == Name || (Type is "histogram" or "summary"
            && (sample == Name + "_sum" || sample == Name + "_count" || (Type == "histogram" && sample == Name + "_bucket")));
    }
}
