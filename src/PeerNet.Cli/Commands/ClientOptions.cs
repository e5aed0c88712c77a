using System.CommandLine;

namespace PeerNet.Cli.Commands;

/// <summary>
/// Options every client verb (<c>add</c>, <c>list</c>, <c>show</c>, <c>pause</c>, <c>resume</c>, <c>remove</c>,
/// <c>status</c>) shares: which daemon to talk to and how to print. A new set for each verb.
/// </summary>
internal sealed class ClientOptions
{
    public Option<string> State { get; } = new("--state")
    {
        Description = "The daemon's state folder, where its api-endpoint and api-token files are; default: $XDG_DATA_HOME/peernet, else ~/.local/share/peernet.",
        HelpName = "DIR",
    };

    public Option<string> Api { get; } = new("--api")
    {
        Description = "The daemon's URL (http://HOST:PORT, or ADDRESS:PORT), instead of the one in the state folder's api-endpoint file.",
        HelpName = "URL",
    };

    public Option<string> TokenFile { get; } = new("--token-file")
    {
        Description = "A file holding the API token, instead of the state folder's api-token (a file, not the token itself: a command line is visible to every user).",
        HelpName = "FILE",
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print JSON for scripts instead of text.",
    };

    /// <summary>Adds these options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(State);
        command.Options.Add(Api);
        command.Options.Add(TokenFile);
        command.Options.Add(Json);
    }

    /// <summary>A client of the daemon these options name (the files are read now; nothing is sent yet).</summary>
    public DaemonClient Connect(ParseResult parseResult) =>
        DaemonClient.Create(parseResult.GetValue(State), parseResult.GetValue(Api), parseResult.GetValue(TokenFile));
}
