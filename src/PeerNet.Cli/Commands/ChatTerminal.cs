using System.Text;

namespace PeerNet.Cli.Commands;

/// <summary>
/// <c>peernet chat</c> on a terminal: a prompt line at the bottom that keeps what is being typed while messages arrive
/// above it (each author in a colour of its own, notices dimmed, one's own lines as <c>you: ...</c>). Keys come from
/// <paramref name="readKey"/> (the console's, read without echo) and everything is drawn with ANSI sequences on
/// <paramref name="output"/>; lines from the network are printed already sanitized. Not used when stdin or stdout is
/// redirected: scripts get plain lines.
/// </summary>
internal sealed class ChatTerminal(TextWriter output, Func<ConsoleKeyInfo> readKey)
{
    /// <summary>Longest line one can type (a message is at most what gossipsub carries; this keeps the prompt on one screen line or a few).</summary>
    public const int MaxLineLength = 4000;

    private const string Prompt = "> ";
    private const string ClearLine = "\r\u001b[2K";
    private const string Reset = "\u001b[0m";
    private const string Dim = "\u001b[2m";
    private static readonly string[] Colours = ["\u001b[36m", "\u001b[35m", "\u001b[33m", "\u001b[32m", "\u001b[34m", "\u001b[31m"];

    private readonly StringBuilder _line = new();
    private readonly Lock _gate = new();

    /// <summary>Prints a message above the prompt, redrawing what is being typed under it.</summary>
    public void Message(string author, string text, bool own = false)
    {
        string colour = own ? "\u001b[1m" : Colours[(int)((uint)StringComparer.Ordinal.GetHashCode(author) % (uint)Colours.Length)];
        Above($"{colour}{(own ? "you" : author)}{Reset}: {text}");
    }

    /// <summary>Prints a notice (joins, leaves, lines not sent) dimmed above the prompt.</summary>
    public void Notice(string text) => Above($"{Dim}{text}{Reset}");

    /// <summary>
    /// Reads keys until Enter and returns the line typed (the prompt is then emptied; the caller shows the line as
    /// sent or not); null at Ctrl+D on an empty line, as a shell ends input. Backspace deletes, Escape clears the line,
    /// other control keys are ignored.
    /// </summary>
    public string? ReadLine()
    {
        lock (_gate)
        {
            output.Write(ClearLine + Prompt + _line);
            output.Flush();
        }

        while (true)
        {
            ConsoleKeyInfo key = readKey();
            lock (_gate)
            {
                switch (key.Key)
                {
                    case ConsoleKey.Enter:
                        string line = _line.ToString();
                        _line.Clear();
                        output.Write(ClearLine + Prompt);
                        output.Flush();
                        return line;
                    case ConsoleKey.Backspace when _line.Length > 0:
                        _line.Length--;
                        output.Write("\b \b");
                        break;
                    case ConsoleKey.Escape:
                        _line.Clear();
                        output.Write(ClearLine + Prompt);
                        break;
                    case ConsoleKey.D when key.Modifiers.HasFlag(ConsoleModifiers.Control) && _line.Length == 0:
                        output.Write(ClearLine);
                        output.Flush();
                        return null;
                    default:
                        if (!char.IsControl(key.KeyChar) && _line.Length < MaxLineLength)
                        {
                            _line.Append(key.KeyChar);
                            output.Write(key.KeyChar);
                        }

                        break;
                }

                output.Flush();
            }
        }
    }

    private void Above(string line)
    {
        lock (_gate)
        {
            output.Write(ClearLine + line + "\n" + Prompt + _line);
            output.Flush();
        }
    }
}
