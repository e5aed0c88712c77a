using System.Net;
using System.Net.Sockets;

namespace PeerNet;

/// <summary>
/// The DHT state file of a state folder, claimed by one node at a time: two nodes with one node ID would confuse the
/// DHT. A lock file beside it is held until the process exits.
/// </summary>
internal static class DhtStateLock
{
    private static readonly List<FileStream> Held = [];

    /// <summary>
    /// The state file for a DHT node bound to <paramref name="bind"/>'s family under <paramref name="stateDirectory"/>,
    /// or null (a fresh ID, nothing saved) without a state folder or when another node holds it.
    /// </summary>
    public static string? Claim(string? stateDirectory, IPAddress bind)
    {
        if (stateDirectory is null)
        {
            return null;
        }

        Directory.CreateDirectory(stateDirectory);
        bool v6 = bind.AddressFamily == AddressFamily.InterNetworkV6;
        string path = Path.Combine(stateDirectory, v6 ? "dht6.state" : "dht.state");
        try
        {
            var handle = new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            lock (Held)
            {
                Held.Add(handle);
            }

            return path;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
