using System.Text.Json;

namespace PeerNet.Interop.Tests;

/// <summary>Runs Python scripts with Debian's <c>/usr/bin/python3</c> and parses the JSON they print.</summary>
internal static class PythonScripts
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    /// <summary>How the scripts' JSON maps to records: snake_case names, every constructor parameter required.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>The folder the scripts are copied to, beside the test assembly.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "scripts");

    /// <summary>A script's full path: a name under <see cref="Directory"/>, or a path as given.</summary>
    public static string Resolve(string script) => Path.IsPathRooted(script) ? script : Path.Combine(Directory, script);

    /// <summary>Runs <paramref name="script"/> and deserializes its stdout; throws with the full output if either fails.</summary>
    public static async Task<T> RunJsonAsync<T>(string script, IEnumerable<string> arguments, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ProcessResult result = await ProcessRunner.RunAsync(
            ReferenceTools.SystemPython,
            [Resolve(script), .. arguments],
            timeout ?? DefaultTimeout,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize<T>(result.StandardOutput, JsonOptions)
                ?? throw new JsonException("the output is JSON null");
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"{script} did not print the expected JSON ({typeof(T).Name}): {e.Message}\n{result.Describe()}", e);
        }
    }
}
