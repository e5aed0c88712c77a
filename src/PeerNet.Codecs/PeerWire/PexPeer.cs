using System.Net;

namespace PeerNet.PeerWire;

/// <summary>A peer announced in a BEP 11 <c>added</c> or <c>added6</c> list, with its flags.</summary>
/// <param name="EndPoint">Address and listen port.</param>
/// <param name="Flags">What the sender knows about it.</param>
internal readonly record struct PexPeer(IPEndPoint EndPoint, PexFlags Flags);
