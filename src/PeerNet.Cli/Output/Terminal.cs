using Spectre.Console;

namespace PeerNet.Cli.Output;

/// <summary>What the output goes to: a terminal gets live views and colours, anything else plain lines.</summary>
internal static class Terminal
{
    /// <summary>Live output only for the real console on a terminal; anything else (a file, a pipe, a test) gets plain lines.</summary>
    public static bool IsInteractive(TextWriter stdout) => stdout == Console.Out && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
}
