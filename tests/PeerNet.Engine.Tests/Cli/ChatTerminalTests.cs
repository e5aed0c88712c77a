using System.Text.RegularExpressions;
using PeerNet.Cli.Commands;

namespace PeerNet.Engine.Tests.Cli;

/// <summary>
/// <c>peernet chat</c>'s terminal UI (<see cref="ChatTerminal"/>) driven by scripted keys: the line being typed stays on
/// the prompt while messages arrive above it, editing keys work, Enter hands the line over, Ctrl+D on an empty line
/// ends the input. The screen is what the ANSI output leaves once its sequences are played.
/// </summary>
public sealed partial class ChatTerminalTests
{
    private static ConsoleKeyInfo Key(char c) => new(c, char.IsLetter(c) ? Enum.Parse<ConsoleKey>(char.ToUpperInvariant(c).ToString()) : ConsoleKey.Spacebar, false, false, false);

    private static ConsoleKeyInfo Special(ConsoleKey key, bool control = false) => new('\0', key, false, false, control);

    private static IEnumerable<ConsoleKeyInfo> Type(string text) => text.Select(Key);

    [Fact]
    public async Task A_message_arriving_while_typing_prints_above_the_prompt_and_the_typed_text_stays()
    {
        var output = new StringWriter();
        var keys = new Queue<ConsoleKeyInfo>([.. Type("hel")]);
        using var typed = new SemaphoreSlim(0);
        using var arrived = new SemaphoreSlim(0);
        var terminal = new ChatTerminal(output, () =>
        {
            if (keys.Count == 0)
            {
                typed.Release();
                arrived.Wait(TestContext.Current.CancellationToken); // the message arrives while "hel" is on the prompt
                foreach (ConsoleKeyInfo k in Type("lo"))
                {
                    keys.Enqueue(k);
                }

                keys.Enqueue(Special(ConsoleKey.Enter));
            }

            return keys.Dequeue();
        });

        Task<string?> reading = Task.Run(terminal.ReadLine, TestContext.Current.CancellationToken);
        Assert.True(await typed.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        terminal.Message("Ab12Cd34", "hi there");
        arrived.Release();
        Assert.Equal("hello", await reading.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        terminal.Message("you", "hello", own: true);

        Assert.Equal(["Ab12Cd34: hi there", "you: hello", "> "], Screen(output.ToString()));
    }

    [Fact]
    public void Backspace_and_escape_edit_the_line_and_control_keys_type_nothing()
    {
        var output = new StringWriter();
        var keys = new Queue<ConsoleKeyInfo>(
        [
            .. Type("abc"), Special(ConsoleKey.Backspace), Special(ConsoleKey.Tab), Key('d'), Special(ConsoleKey.Enter),
            .. Type("gone"), Special(ConsoleKey.Escape), .. Type("kept"), Special(ConsoleKey.Enter),
        ]);
        var terminal = new ChatTerminal(output, keys.Dequeue);

        Assert.Equal("abd", terminal.ReadLine());
        Assert.Equal("kept", terminal.ReadLine());
        Assert.Equal(["> "], Screen(output.ToString()));
    }

    [Fact]
    public void Ctrl_D_on_an_empty_line_ends_the_input_but_not_on_a_line_being_typed()
    {
        var keys = new Queue<ConsoleKeyInfo>([Key('x'), Special(ConsoleKey.D, control: true), Special(ConsoleKey.Enter), Special(ConsoleKey.D, control: true)]);
        var terminal = new ChatTerminal(new StringWriter(), keys.Dequeue);
        Assert.Equal("x", terminal.ReadLine());
        Assert.Null(terminal.ReadLine());
    }

    [Fact]
    public void Notices_are_dimmed_and_authors_coloured()
    {
        var output = new StringWriter();
        var terminal = new ChatTerminal(output, () => throw new InvalidOperationException("no keys"));
        terminal.Notice("Ab12Cd34 joined");
        terminal.Message("Ab12Cd34", "hi");
        string raw = output.ToString();
        Assert.Contains("\u001b[2mAb12Cd34 joined\u001b[0m", raw, StringComparison.Ordinal);
        Assert.Matches(@"\u001b\[3[1-6]mAb12Cd34\u001b\[0m: hi", raw);
    }

    /// <summary>The lines left on screen: carriage return and erase-line rewrite the current line, backspace steps back, colours drop.</summary>
    private static List<string> Screen(string ansi)
    {
        var lines = new List<string> { "" };
        int column = 0;
        string text = Colour().Replace(ansi, "");
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\r')
            {
                column = 0;
            }
            else if (text.AsSpan(i).StartsWith("\u001b[2K"))
            {
                lines[^1] = "";
                i += 3;
            }
            else if (text[i] == '\n')
            {
                lines.Add("");
                column = 0;
            }
            else if (text[i] == '\b')
            {
                column = Math.Max(0, column - 1);
            }
            else
            {
                string line = lines[^1].PadRight(column);
                lines[^1] = line[..column] + text[i] + (column + 1 < line.Length ? line[(column + 1)..] : "");
                column++;
            }
        }

        return [.. lines.Select(l => l == "> " ? l : l.TrimEnd())];
    }

    [GeneratedRegex(@"\u001b\[[0-9;]*m")]
    private static partial Regex Colour();
}
