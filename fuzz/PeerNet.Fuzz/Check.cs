using System.Diagnostics.CodeAnalysis;

namespace PeerNet.Fuzz;

/// <summary>Invariant checks that throw <see cref="FuzzInvariantException"/>.</summary>
internal static class Check
{
    public static void That([DoesNotReturnIf(false)] bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(message);
        }
    }

    public static void Equal<T>(T expected, T actual, string what)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
        {
            throw new FuzzInvariantException($"{what}: expected {expected}, got {actual}");
        }
    }

    public static void SequenceEqual<T>(IEnumerable<T> expected, IEnumerable<T> actual, string what)
    {
        if (!expected.SequenceEqual(actual))
        {
            throw new FuzzInvariantException($"{what}: [{string.Join(", ", expected)}] != [{string.Join(", ", actual)}]");
        }
    }

    public static void Bytes(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string what)
    {
        if (!expected.SequenceEqual(actual))
        {
            throw new FuzzInvariantException($"{what}: {Convert.ToHexString(expected)} != {Convert.ToHexString(actual)}");
        }
    }
}
