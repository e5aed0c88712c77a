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
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiters = [];

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
            Signal();
        }
    }

    public override void Write(string? value)
    {
        lock (_gate)
        {
            _text.Append(value);
            Signal();
        }
    }

    /// <summary>
    /// Completes once <paramref name="text"/> has been written (at once if it already was), or throws
    /// <see cref="TimeoutException"/> after <paramref name="timeout"/>: a wait on the write itself, not a poll.
    /// </summary>
    public Task WaitForAsync(string text, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_text.ToString().Contains(text, StringComparison.Ordinal))
            {
                return Task.CompletedTask;
            }

            _waiters.Add((text, seen));
        }

        return seen.Task.WaitAsync(timeout, cancellationToken);
    }

    private void Signal()
    {
        if (_waiters.Count == 0)
        {
            return;
        }

        string written = _text.ToString();
        _waiters.RemoveAll(w => written.Contains(w.Text, StringComparison.Ordinal) && w.Seen.TrySetResult());
    }
}
