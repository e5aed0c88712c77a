namespace PeerNet.Bencode;

/// <summary>The four bencode types (BEP 3).</summary>
public enum BencodeKind : byte
{
    /// <summary>Not a value (a default <see cref="BencodeNode"/>, or a key that is absent).</summary>
    None = 0,

    /// <summary><c>i…e</c>: a signed 64-bit integer.</summary>
    Integer,

    /// <summary><c>N:…</c>: a byte string.</summary>
    String,

    /// <summary><c>l…e</c>: a list.</summary>
    List,

    /// <summary><c>d…e</c>: a dictionary with string keys.</summary>
    Dictionary,
}
