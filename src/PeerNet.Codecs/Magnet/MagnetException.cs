namespace PeerNet.Magnet;

/// <summary>Thrown by <see cref="MagnetLink.Parse"/> when a magnet link is refused; the message names the parameter and the problem.</summary>
public sealed class MagnetException : FormatException
{
    /// <summary>Creates the exception for a problem with one parameter (or with the link as a whole when <paramref name="parameter"/> is null).</summary>
    public MagnetException(string? parameter, string problem)
        : base(FormatMessage(parameter, problem)) => Parameter = parameter;

    /// <summary>Creates an exception with a message of its own.</summary>
    public MagnetException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an empty exception.</summary>
    public MagnetException()
        : base("invalid magnet link")
    {
    }

    /// <summary>Creates an exception with a message and inner exception.</summary>
    public MagnetException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The parameter at fault (<c>xt</c>, <c>dn</c>, <c>tr</c>, …), or null when the link as a whole is.</summary>
    public string? Parameter { get; }

    internal static string FormatMessage(string? parameter, string problem)
        => parameter is null ? $"invalid magnet link: {problem}" : $"invalid magnet link: parameter '{parameter}' {problem}";

    /// <summary>
    /// Input for an error message, cut short so a hostile link cannot make the message huge, with its control and
    /// bidi characters replaced: the message is shown on terminals and written to logs, and a percent-decoded value
    /// can hold ESC or U+202E.
    /// </summary>
    internal static string Quote(ReadOnlySpan<char> text) => DisplayText.Sanitize(text, 80);
}
