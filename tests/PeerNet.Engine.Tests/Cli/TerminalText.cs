namespace PeerNet.Engine.Tests.Cli;

/// <summary>
/// Hostile text for terminal-injection tests, and the check that output is free of it. The set of forbidden
/// characters is written out here, independently of the code under test.
/// </summary>
internal static class TerminalText
{
    /// <summary>ESC [ 2 J: clears the screen.</summary>
    public const string ClearScreen = "\u001b[2J";

    /// <summary>OSC 0 ; … BEL: sets the window title.</summary>
    public const string SetTitle = "\u001b]0;pwned\u0007";

    /// <summary>The one-character C1 CSI (U+009B) followed by SGR 31: red text on terminals that honour C1.</summary>
    public const string C1Red = "\u009b31m";

    /// <summary>RIGHT-TO-LEFT OVERRIDE: "evil\u202Egpj.exe" shows as "evilexe.jpg".</summary>
    public const string RightToLeftOverride = "\u202e";

    /// <summary>LEFT-TO-RIGHT ISOLATE.</summary>
    public const string LeftToRightIsolate = "\u2066";

    /// <summary>What a replaced character shows as.</summary>
    public const char Replacement = '\uFFFD';

    /// <summary>C0 controls, DEL, C1 controls and the bidi controls that reorder text.</summary>
    public static bool IsForbidden(char c)
        => c < 0x20 || c is >= '\u007f' and <= '\u009f' or '\u061c' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');

    /// <summary>
    /// Fails if <paramref name="output"/> holds a forbidden character other than the line breaks the program writes
    /// itself, naming where.
    /// </summary>
    public static void AssertClean(string output, string what)
    {
        for (int i = 0; i < output.Length; i++)
        {
            char c = output[i];
            if (c is not ('\n' or '\r') && IsForbidden(c))
            {
                int start = Math.Max(0, i - 40);
                string context = output[start..Math.Min(output.Length, i + 40)];
                Assert.Fail($"{what} holds U+{(int)c:X4} at {i}: {Visible(context)}");
            }
        }
    }

    /// <summary><paramref name="text"/> with every forbidden character as <see cref="Replacement"/> (a tab as a space).</summary>
    public static string Replaced(string text) => new([.. text.Select(c => c == '\t' ? ' ' : IsForbidden(c) ? Replacement : c)]);

    private static string Visible(string text) => string.Concat(text.Select(c => IsForbidden(c) ? $"<U+{(int)c:X4}>" : c.ToString()));
}
