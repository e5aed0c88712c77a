namespace PeerNet.PeerWire;

/// <summary>The BEP 11 per-peer flags of <c>added.f</c> and <c>added6.f</c>.</summary>
[Flags]
internal enum PexFlags : byte
{
    /// <summary>Nothing known.</summary>
    None = 0,

    /// <summary>0x01: prefers encrypted connections.</summary>
    PrefersEncryption = 0x01,

    /// <summary>0x02: a seed or upload-only peer.</summary>
    Seed = 0x02,

    /// <summary>0x04: supports uTP (BEP 29). Only positive: 0 does not mean it lacks uTP.</summary>
    SupportsUtp = 0x04,

    /// <summary>0x08: supports the ut_holepunch extension (BEP 55).</summary>
    SupportsHolepunch = 0x08,

    /// <summary>0x10: reachable — the sender connected to it, rather than it to the sender.</summary>
    Reachable = 0x10,
}
