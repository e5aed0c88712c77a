using System.Security.Cryptography;
using System.Text;
using PeerNet.Daemon.Persistence;

namespace PeerNet.Daemon.Service;

/// <summary>
/// The daemon's state folder: <c>settings.json</c> (optional), <c>api-token</c> (0600), <c>api-endpoint</c> (the URL
/// the API listens on, for clients), <c>torrents/</c> (the catalog), <c>resume/</c> (the node's resume data),
/// <c>node/</c> (the node's own state: the DHT's table), <c>downloads/</c> (the default download folder).
/// </summary>
internal sealed class DaemonState
{
    public DaemonState(string folder)
    {
        Folder = Path.GetFullPath(folder);
    }

    /// <summary>The state folder, absolute.</summary>
    public string Folder { get; }

    public string SettingsFile => Path.Combine(Folder, "settings.json");

    public string TokenFile => Path.Combine(Folder, "api-token");

    public string EndpointFile => Path.Combine(Folder, "api-endpoint");

    public string CatalogFolder => Path.Combine(Folder, "torrents");

    public string ResumeFolder => Path.Combine(Folder, "resume");

    public string NodeFolder => Path.Combine(Folder, "node");

    public string DefaultDownloadFolder => Path.Combine(Folder, "downloads");

    /// <summary><c>$XDG_DATA_HOME/peernet</c>, else <c>~/.local/share/peernet</c>.</summary>
    public static string DefaultFolder()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "peernet");
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "peernet");
    }

    /// <summary>Creates the folder (owner-only on Unix: it holds the token).</summary>
    public void Create()
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(Folder);
        }
        else
        {
            Directory.CreateDirectory(Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>
    /// The API token: <paramref name="configured"/> if the settings give one (written to <see cref="TokenFile"/> too,
    /// so local clients find it), else the one in <see cref="TokenFile"/>, made on first start (32 random bytes, base64url).
    /// </summary>
    public string LoadOrCreateToken(string? configured)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            if (ReadToken() != configured)
            {
                AtomicFile.Write(TokenFile, Encoding.UTF8.GetBytes(configured + "\n"));
            }

            return configured;
        }

        if (ReadToken() is { Length: >= ApiSettings.MinTokenLength } existing)
        {
            return existing;
        }

        string token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        AtomicFile.Write(TokenFile, Encoding.UTF8.GetBytes(token + "\n"));
        return token;
    }

    private string? ReadToken()
    {
        var file = new FileInfo(TokenFile);
        return file.Exists && file.Length < 1024 ? File.ReadAllText(TokenFile).Trim() : null;
    }
}
