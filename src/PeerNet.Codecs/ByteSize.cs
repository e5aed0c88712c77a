using System.Globalization;

namespace PeerNet;

/// <summary>
/// Sizes as people write them, on the command line, in settings and in output: <c>16384</c>, <c>16K</c>, <c>256KiB</c>,
/// <c>4MiB</c>, <c>50 GiB</c> (all binary units, case-insensitive, a space allowed before the unit).
/// </summary>
public static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] Suffixes =
    [
        ("KIB", 1L << 10), ("KB", 1L << 10), ("K", 1L << 10),
        ("MIB", 1L << 20), ("MB", 1L << 20), ("M", 1L << 20),
        ("GIB", 1L << 30), ("GB", 1L << 30), ("G", 1L << 30),
        ("B", 1),
    ];

    /// <summary>Parses a whole number of bytes with an optional binary suffix (case-insensitive); false when it is not one or overflows.</summary>
    /// <param name="text">The size, as <c>500M</c>, <c>50 GiB</c> or <c>1048576</c>.</param>
    /// <param name="bytes">The size in bytes, or 0 when <paramref name="text"/> is not a size.</param>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        string value = text.Trim();
        long factor = 1;
        foreach ((string suffix, long f) in Suffixes)
        {
            if (value.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                value = value[..^suffix.Length].TrimEnd();
                factor = f;
                break;
            }
        }

        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long number))
        {
            return false;
        }

        try
        {
            bytes = checked(number * factor);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>Short human form: <c>1.5 GiB</c>, <c>256 KiB</c>, <c>10 B</c>.</summary>
    /// <param name="bytes">The size in bytes.</param>
    public static string Format(double bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        int unit = 0;
        while (bytes >= 1024 && unit < units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes:0} B")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes:0.##} {units[unit]}");
    }
}
