using System.Text;

namespace PeerNet.Engine.Tests.Cli;

/// <summary>
/// A string writer that a running command writes to while the test reads it: <see cref="StringWriter"/> is not safe
/// to read during a write. Every other <see cref="TextWriter"/> method funnels into these two.
/// </summary>
internal sealed class LockedStringWriter : TextWriter
{
    private readonly StringBuilder _text = new();
    private readonly Lock _gate = new();

    public override Encoding Encoding => Encoding.Unicode;

    public string Text
    {
        get
        {
            lock (_gate)
            {
                return _text.ToString();
            }
        }
    }

    public override void Write(char value)
    {
        lock (_gate)
        {
            _text.Append(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_gate)
        {
            _text.Append(value);
        }
    }
}
