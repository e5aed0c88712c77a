namespace PeerNet.Dht;

/// <summary>The KRPC query methods PeerNet understands.</summary>
internal enum DhtMethod
{
    /// <summary>A method this node does not know; answered with error 204 (BEP 5).</summary>
    Unknown = 0,

    /// <summary>BEP 5 <c>ping</c>.</summary>
    Ping,

    /// <summary>BEP 5 <c>find_node</c>.</summary>
    FindNode,

    /// <summary>BEP 5 <c>get_peers</c>.</summary>
    GetPeers,

    /// <summary>BEP 5 <c>announce_peer</c>.</summary>
    AnnouncePeer,

    /// <summary>BEP 44 <c>get</c>.</summary>
    Get,

    /// <summary>BEP 44 <c>put</c>.</summary>
    Put,

    /// <summary>BEP 51 <c>sample_infohashes</c>.</summary>
    SampleInfohashes,
}

/// <summary>A KRPC message's <c>y</c>.</summary>
internal enum KrpcMessageType
{
    /// <summary><c>y = q</c>.</summary>
    Query,

    /// <summary><c>y = r</c>.</summary>
    Response,

    /// <summary><c>y = e</c>.</summary>
    Error,
}

/// <summary>The address families a query asks nodes for (BEP 32 <c>want</c>).</summary>
[Flags]
internal enum DhtWant
{
    /// <summary>No <c>want</c> key: the family of the socket the query came in on.</summary>
    None = 0,

    /// <summary><c>n4</c>: IPv4 nodes in <c>nodes</c>.</summary>
    N4 = 1,

    /// <summary><c>n6</c>: IPv6 nodes in <c>nodes6</c>.</summary>
    N6 = 2,
}

/// <summary>Method names on the wire.</summary>
internal static class DhtMethods
{
    public static ReadOnlySpan<byte> NameOf(DhtMethod method) => method switch
    {
        DhtMethod.Ping => "ping"u8,
        DhtMethod.FindNode => "find_node"u8,
        DhtMethod.GetPeers => "get_peers"u8,
        DhtMethod.AnnouncePeer => "announce_peer"u8,
        DhtMethod.Get => "get"u8,
        DhtMethod.Put => "put"u8,
        DhtMethod.SampleInfohashes => "sample_infohashes"u8,
        _ => default,
    };

    public static DhtMethod Parse(ReadOnlySpan<byte> name)
    {
        for (DhtMethod m = DhtMethod.Ping; m <= DhtMethod.SampleInfohashes; m++)
        {
            if (name.SequenceEqual(NameOf(m)))
            {
                return m;
            }
        }

        return DhtMethod.Unknown;
    }
}
