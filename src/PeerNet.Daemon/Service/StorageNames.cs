using System.Text.Json;
using PeerNet.Daemon.Persistence;

namespace PeerNet.Daemon.Service;

/// <summary>
/// The names of the files put through the API, by read capability (the engine keeps capabilities, not names), in a JSON
/// file of the state folder written atomically. It holds capabilities, so it is as secret as the engine's own record of them.
/// </summary>
internal sealed class StorageNames
{
    /// <summary>The longest name kept.</summary>
    public const int MaxNameLength = 255;

    private readonly string _file;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _names;

    public StorageNames(string file)
    {
        _file = file;
        _names = Load(file);
    }

    /// <summary>The name a file was uploaded with, if any.</summary>
    public string? NameOf(string capability)
    {
        lock (_gate)
        {
            return _names.GetValueOrDefault(capability);
        }
    }

    /// <summary>Keeps a file's name (an <see cref="IOException"/> if it cannot be written).</summary>
    public void Set(string capability, string name)
    {
        lock (_gate)
        {
            _names[capability] = name;
            AtomicFile.Write(_file, JsonSerializer.SerializeToUtf8Bytes(_names));
        }
    }

    private static Dictionary<string, string> Load(string file)
    {
        try
        {
            return File.Exists(file)
                ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllBytes(file)) ?? new(StringComparer.Ordinal)
                : new(StringComparer.Ordinal);
        }
        catch (JsonException)
        {
            return new(StringComparer.Ordinal); // names are a convenience: a damaged file loses them, not the files
        }
    }
}
