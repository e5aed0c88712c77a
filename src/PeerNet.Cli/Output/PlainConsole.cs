using Spectre.Console;

namespace PeerNet.Cli.Output;

/// <summary>A Spectre.Console console for tables: the real one on a terminal, else plain text (no colours, 132 columns) into the writer.</summary>
internal static class PlainConsole
{
    public static IAnsiConsole For(TextWriter stdout)
    {
        if (Terminal.IsInteractive(stdout))
        {
            return AnsiConsole.Console;
        }

        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(stdout),
        });
        console.Profile.Width = 132; // logs do not wrap at 80 columns
        return console;
    }
}
