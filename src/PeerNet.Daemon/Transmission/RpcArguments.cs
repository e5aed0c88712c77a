using System.Text.Json;

namespace PeerNet.Daemon.Transmission;

/// <summary>A request's <c>arguments</c> object (empty when absent), read with Transmission's leniency: a number may be sent as a boolean and the other way round.</summary>
internal readonly struct RpcArguments
{
    private readonly JsonElement _arguments;

    public RpcArguments(JsonElement arguments)
    {
        _arguments = arguments;
    }

    /// <summary>The names given.</summary>
    public IEnumerable<string> Names => _arguments.ValueKind == JsonValueKind.Object ? _arguments.EnumerateObject().Select(p => p.Name) : [];

    public bool Has(string name) => TryGet(name, out _);

    public bool TryGet(string name, out JsonElement value)
    {
        value = default;
        return _arguments.ValueKind == JsonValueKind.Object && _arguments.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
    }

    public bool? GetBool(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when value.TryGetInt64(out long n) => n != 0,
            _ => throw new RpcException($"'{name}' must be a boolean"),
        };
    }

    public long? GetLong(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt64(out long n) => n,
            JsonValueKind.Number when value.TryGetDouble(out double d) && d is >= long.MinValue and <= long.MaxValue => (long)d,
            JsonValueKind.True => 1,
            JsonValueKind.False => 0,
            _ => throw new RpcException($"'{name}' must be a number"),
        };
    }

    public string? GetString(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new RpcException($"'{name}' must be a string");
    }

    /// <summary>A list of whole numbers (file indices); an empty list means every one, as in Transmission.</summary>
    public IReadOnlyList<int>? GetIndices(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new RpcException($"'{name}' must be a list of file indices");
        }

        var indices = new List<int>();
        foreach (JsonElement item in value.EnumerateArray())
        {
            indices.Add(item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out int i) ? i : throw new RpcException($"'{name}' must be a list of file indices"));
        }

        return indices;
    }

    /// <summary>A list of strings (field names).</summary>
    public IReadOnlyList<string>? GetStrings(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new RpcException($"'{name}' must be a list of strings");
        }

        return [.. value.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.String ? item.GetString()! : throw new RpcException($"'{name}' must be a list of strings"))];
    }
}
