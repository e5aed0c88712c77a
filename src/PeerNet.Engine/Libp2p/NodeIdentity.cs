using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace PeerNet.Libp2p;

/// <summary>
/// The node's libp2p identity: an Ed25519 key pair and the <see cref="Libp2pPeerId"/> made from its public key. Kept in
/// the state folder as <c>identity.key</c> (libp2p's protobuf <c>PrivateKey</c>, as go- and js-libp2p store keys), a
/// file only its owner may read: created with mode 0600 on first start, written whole or not at all, and, as ssh does
/// with its keys, refused when others can read or write it. Whoever holds the file can speak as the node.
/// </summary>
public sealed class NodeIdentity : IDisposable
{
    /// <summary>The key file's name in the state folder.</summary>
    public const string FileName = "identity.key";

    private const UnixFileMode OthersMayAccess =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private readonly Key _key;
    private readonly byte[] _publicKey;
    private Libp2pNoiseCredentials? _noise;

    private NodeIdentity(Key key, string? keyFile)
    {
        _key = key;
        _publicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        PeerId = Libp2pPeerId.FromEd25519PublicKey(_publicKey);
        KeyFile = keyFile;
    }

    /// <summary>The node's peer ID (<c>12D3KooW...</c>).</summary>
    public Libp2pPeerId PeerId { get; }

    /// <summary>The node's Ed25519 public key (32 bytes).</summary>
    public ReadOnlyMemory<byte> PublicKey => _publicKey;

    /// <summary>The file the key is kept in; null for an identity that lives only in memory.</summary>
    public string? KeyFile { get; }

    /// <summary>
    /// The identity kept in <paramref name="stateDirectory"/> (made if missing), created there on first use. Throws
    /// <see cref="UnauthorizedAccessException"/> when the key file is readable or writable by others than its owner,
    /// and <see cref="InvalidDataException"/> when it is not a libp2p Ed25519 private key.
    /// </summary>
    public static NodeIdentity LoadOrCreate(string stateDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateDirectory);
        Directory.CreateDirectory(stateDirectory);
        string path = Path.Combine(stateDirectory, FileName);
        if (!File.Exists(path))
        {
            using Key created = NewKey();
            if (TryWriteNew(path, created))
            {
                return Load(path);
            }

            // Another process created it first: use theirs, so one folder has one identity.
        }

        return Load(path);
    }

    /// <summary>A fresh identity kept nowhere (a node without a state folder).</summary>
    public static NodeIdentity CreateEphemeral() => new(NewKey(), keyFile: null);

    /// <summary>Signs <paramref name="data"/> with the node's key (Ed25519, 64 bytes).</summary>
    internal byte[] Sign(ReadOnlySpan<byte> data) => SignatureAlgorithm.Ed25519.Sign(_key, data);

    /// <summary>
    /// The node's noise-libp2p credentials: one static X25519 key, made at first use and kept in memory only, signed
    /// once by the identity key (the libp2p noise spec allows one static key for every session).
    /// </summary>
    internal Libp2pNoiseCredentials NoiseCredentials
    {
        get
        {
            if (Volatile.Read(ref _noise) is { } made)
            {
                return made;
            }

            var fresh = Libp2pNoiseCredentials.Create(_publicKey, data => Sign(data));
            if (Interlocked.CompareExchange(ref _noise, fresh, null) is { } other)
            {
                fresh.Dispose();
                return other;
            }

            return fresh;
        }
    }

    /// <summary>Forgets the private key (and the Noise static key).</summary>
    public void Dispose()
    {
        _key.Dispose();
        Interlocked.Exchange(ref _noise, null)?.Dispose();
    }

    private static Key NewKey() =>
        Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });

    private static NodeIdentity Load(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            UnixFileMode mode = File.GetUnixFileMode(path);
            if ((mode & OthersMayAccess) != 0)
            {
                throw new UnauthorizedAccessException(
                    $"{path} is accessible by others (mode {Convert.ToString((int)mode, 8)}); a node key must be private: chmod 600 it, or remove it for a new identity.");
            }
        }

        var info = new FileInfo(path);
        if (info.Length > 1024)
        {
            throw new InvalidDataException($"{path} is {info.Length} bytes, too big for a libp2p Ed25519 private key.");
        }

        byte[] message = File.ReadAllBytes(path);
        byte[]? seed = null;
        try
        {
            seed = Libp2pKeys.TryDecodeEd25519PrivateKey(message, out byte[]? storedPublic, out string? error)
                ?? throw new InvalidDataException($"{path} is not a libp2p Ed25519 private key: {error}.");
            Key key = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey);
            if (!CryptographicOperations.FixedTimeEquals(key.PublicKey.Export(KeyBlobFormat.RawPublicKey), storedPublic))
            {
                key.Dispose();
                throw new InvalidDataException($"{path} is damaged: its public key is not the one its private key makes.");
            }

            return new NodeIdentity(key, path);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(message);
            if (seed is not null)
            {
                CryptographicOperations.ZeroMemory(seed);
            }
        }
    }

    /// <summary>Writes the key to a private temporary file, then links it into place unless a key is already there.</summary>
    private static bool TryWriteNew(string path, Key key)
    {
        byte[] seed = key.Export(KeyBlobFormat.RawPrivateKey);
        byte[] message = Libp2pKeys.EncodeEd25519PrivateKey(seed, key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
        string temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var file = new FileStream(temporary, options))
            {
                file.Write(message);
                file.Flush(flushToDisk: true);
            }

            return PublishIfAbsent(temporary, path);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
            CryptographicOperations.ZeroMemory(message);
            File.Delete(temporary);
        }
    }
    /// <summary>
    /// Gives the written key its final name unless a key is there already, in one atomic step. On Unix this is
    /// link(2), which fails with EEXIST; File.Move(overwrite: false) checks and renames in two steps there, and two
    /// first starts racing through that gap each kept its own identity (a CI run saw it).
    /// </summary>
    private static bool PublishIfAbsent(string temporary, string path)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                File.Move(temporary, path, overwrite: false); // MoveFileEx without REPLACE_EXISTING: atomic
                return true;
            }
            catch (IOException) when (File.Exists(path))
            {
                return false;
            }
        }

        if (NativeMethods.link(NulTerminated(temporary), NulTerminated(path)) == 0)
        {
            return true;
        }

        int error = Marshal.GetLastPInvokeError();
        return error == Eexist
            ? false
            : throw new IOException($"Could not create {path}: {Marshal.GetPInvokeErrorMessage(error)}.");
    }

    private static byte[] NulTerminated(string path)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, bytes);
        return bytes;
    }

    private const int Eexist = 17;

    private static class NativeMethods
    {
#pragma warning disable SYSLIB1054, CA1401, IDE1006 // a plain blittable libc call; the name is libc's
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int link(byte[] oldPath, byte[] newPath);
#pragma warning restore SYSLIB1054, CA1401, IDE1006
    }
}
