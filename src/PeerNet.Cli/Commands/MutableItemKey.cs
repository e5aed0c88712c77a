using System.Security.Cryptography;

namespace PeerNet.Cli.Commands;

/// <summary>
/// The Ed25519 private key seed that signs the user's BEP 44 mutable items: 32 raw bytes in a file only its owner
/// can read (0600), created on first use. Whoever holds it can overwrite the items, so it is never printed.
/// </summary>
internal static class MutableItemKey
{
    public const int SeedLength = 32;

    public static byte[] LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            byte[] seed = File.ReadAllBytes(path);
            return seed.Length == SeedLength
                ? seed
                : throw new InvalidOperationException($"{path} holds {seed.Length} bytes, not a {SeedLength}-byte Ed25519 key seed.");
        }

        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        byte[] created = RandomNumberGenerator.GetBytes(SeedLength);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(path, options))
        {
            file.Write(created);
        }

        return created;
    }
}
