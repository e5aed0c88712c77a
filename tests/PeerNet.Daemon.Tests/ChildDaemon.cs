using System.Diagnostics;

namespace PeerNet.Daemon.Tests;

/// <summary><c>peernet daemon</c> as a child process (peernet.dll beside the tests), its output drained.</summary>
internal static class ChildDaemon
{
    /// <summary><c>dotnet peernet.dll daemon</c> on loopback, free ports, no DHT or trackers (settings from the environment, as a user would give them).</summary>
    public static Process Start(string state, params string[] arguments) => Start(new Dictionary<string, string>(), state, arguments);

    /// <summary>As <see cref="Start(string, string[])"/>, with more <c>PEERNET_</c> environment variables (they win over the defaults).</summary>
    public static Process Start(IReadOnlyDictionary<string, string> environment, string state, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])[Path.Combine(AppContext.BaseDirectory, "peernet.dll"), "daemon", "--state", state, "--api", "127.0.0.1:0", "--port", "0", .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PEERNET_Node__ListenAddress"] = "127.0.0.1";
        start.Environment["PEERNET_Node__Dht"] = "false";
        start.Environment["PEERNET_Node__Trackers"] = "false";
        start.Environment["PEERNET_Logging__LogLevel__Default"] = "Warning";
        foreach ((string name, string value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        ChildErrors.Add(process, errors);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line && errors.Count < 200)
            {
                errors.Enqueue(line);
            }
        };
        process.BeginOutputReadLine(); // both drained, so a full pipe never blocks it
        process.BeginErrorReadLine();
        return process;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Process, System.Collections.Concurrent.ConcurrentQueue<string>> ChildErrors = [];

    /// <summary>What the child wrote to stderr (its first 200 lines).</summary>
    public static string Errors(Process child) => ChildErrors.TryGetValue(child, out var lines) ? string.Join("\n", lines) : "";
}
