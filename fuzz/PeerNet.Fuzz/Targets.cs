namespace PeerNet.Fuzz;

/// <summary>One fuzz target: throws when the input breaks an invariant of the parser under test.</summary>
public delegate void FuzzTarget(ReadOnlySpan<byte> data);

/// <summary>
/// Every fuzz target by name. The name is the folder of its seed corpus (fuzz/corpus/NAME), of its regression
/// seeds (fuzz/regressions/NAME) and the argument of fuzz/run.sh.
/// </summary>
public static class Targets
{
    /// <summary>The registry: name → target.</summary>
    public static IReadOnlyDictionary<string, FuzzTarget> All { get; } = new SortedDictionary<string, FuzzTarget>(StringComparer.Ordinal)
    {
        ["bencode"] = BencodeTarget.Fuzz,
        ["metainfo"] = MetainfoTarget.Fuzz,
        ["magnet"] = MagnetTarget.Fuzz,
        ["path"] = PathTarget.Fuzz,
        ["handshake"] = HandshakeTarget.Fuzz,
        ["peerwire"] = PeerWireTarget.Fuzz,
        ["bitfield"] = BitfieldTarget.Fuzz,
        ["exthandshake"] = ExtensionHandshakeTarget.Fuzz,
        ["utmetadata"] = MetadataTarget.Fuzz,
        ["utpex"] = PexTarget.Fuzz,
        ["holepunch"] = HolepunchTarget.Fuzz,
        ["resume"] = ResumeTarget.Fuzz,
        ["httptracker"] = HttpTrackerTarget.Fuzz,
        ["udptracker"] = UdpTrackerTarget.Fuzz,
        ["krpc"] = KrpcTarget.Fuzz,
        ["lsd"] = LsdTarget.Fuzz,
        ["mse"] = MseTarget.Fuzz,
        ["multiaddr"] = MultiaddrTarget.Fuzz,
        ["multistream"] = MultistreamTarget.Fuzz,
        ["varint"] = VarintTarget.Fuzz,
        ["noise"] = NoiseTarget.Fuzz,
        ["natpmp"] = NatPmpTarget.Fuzz,
        ["pcp"] = PcpTarget.Fuzz,
        ["ssdp"] = SsdpTarget.Fuzz,
        ["upnp-xml"] = UpnpXmlTarget.Fuzz,
        ["yamux"] = YamuxTarget.Fuzz,
        ["kad"] = KadTarget.Fuzz,
        ["gossipsub"] = GossipsubTarget.Fuzz,
        ["utp"] = UtpTarget.Fuzz,
        ["peersession"] = PeerSessionTarget.Fuzz,
        ["leechsession"] = LeechSessionTarget.Fuzz,
        ["grid"] = GridTarget.Fuzz,
    };
}
