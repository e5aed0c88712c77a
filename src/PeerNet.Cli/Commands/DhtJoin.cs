using System.Globalization;

namespace PeerNet.Cli.Commands;

/// <summary>
/// Says so when the DHT cannot be reached, instead of leaving a magnet or <c>peernet dht</c> waiting in silence: once,
/// after <see cref="Silence"/> without an answer, or as soon as joining ends with an empty routing table.
/// </summary>
internal static class DhtJoin
{
    /// <summary>How long a join may stay silent before the user is told.</summary>
    public static readonly TimeSpan Silence = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Awaits <paramref name="joining"/> (its exceptions included), writing one line to <paramref name="log"/> if it is
    /// still running after <see cref="Silence"/> or ends with <paramref name="nodes"/> at 0. Returns early, without
    /// error, when <paramref name="stopWaiting"/> is cancelled (a <c>--duration</c> that ends during the join).
    /// </summary>
    public static async Task WaitAsync(Task joining, Func<int> nodes, IReadOnlyList<string>? bootstrap, TextWriter log, CancellationToken stopWaiting)
    {
        bool reported = false;
        using (var quiet = CancellationTokenSource.CreateLinkedTokenSource(stopWaiting))
        {
            Task silence = Task.Delay(Silence, quiet.Token);
            if (await Task.WhenAny(joining, silence).ConfigureAwait(false) == silence && !stopWaiting.IsCancellationRequested)
            {
                await log.WriteLineAsync(Unreachable(bootstrap, stillTrying: true)).ConfigureAwait(false);
                reported = true;
            }

            await quiet.CancelAsync().ConfigureAwait(false);
        }

        await Task.WhenAny(joining, Task.Delay(Timeout.Infinite, stopWaiting)).ConfigureAwait(false);
        if (stopWaiting.IsCancellationRequested)
        {
            return; // the caller stops waiting (and ends the join with the node)
        }

        await joining.ConfigureAwait(false);
        if (!reported && nodes() == 0)
        {
            await log.WriteLineAsync(Unreachable(bootstrap, stillTrying: false)).ConfigureAwait(false);
        }
    }

    private static string Unreachable(IReadOnlyList<string>? bootstrap, bool stillTrying)
    {
        string through = bootstrap is { Count: > 0 } ? DisplayText.Sanitize(string.Join(", ", bootstrap)) : "the public routers";
        string within = stillTrying ? string.Create(CultureInfo.InvariantCulture, $" in {Silence.TotalSeconds:0} s") : "";
        string then = stillTrying ? "still trying" : "it keeps trying in the background";
        return $"DHT: no node answered{within} (joining through {through}): check --bootstrap and that UDP can get out; {then}";
    }
}
