using PeerNet.Daemon.Service;

namespace PeerNet.Daemon.Hosting;

/// <summary>Where a client finds a running daemon: the files in its state folder that say where it listens and with which token.</summary>
public static class DaemonFiles
{
    /// <summary>The state folder <c>peernet daemon</c> uses without <c>--state</c>: <c>$XDG_DATA_HOME/peernet</c>, else <c>~/.local/share/peernet</c>.</summary>
    public static string DefaultStateFolder() => DaemonState.DefaultFolder();

    /// <summary>The file holding the URL the daemon's API listens on (written once it listens).</summary>
    public static string EndpointFile(string stateFolder) => new DaemonState(stateFolder).EndpointFile;

    /// <summary>The node's own folder in the state folder (its libp2p key <c>identity.key</c>, its DHT state).</summary>
    public static string NodeFolder(string stateFolder) => new DaemonState(stateFolder).NodeFolder;

    /// <summary>The file holding the API token (owner-only).</summary>
    public static string TokenFile(string stateFolder) => new DaemonState(stateFolder).TokenFile;
}
