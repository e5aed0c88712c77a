using System.Buffers;
using System.Net;
using PeerNet.Bencode;
using PeerNet.PeerWire;

namespace PeerNet.Dht;

internal sealed partial record KrpcMessage
{
    /// <summary>
    /// Writes the message as one bencoded dictionary, keys in sorted order (BEP 3: "Keys must be strings and
    /// appear in sorted order"). Fields that do not belong to the message's type and method are not written.
    /// </summary>
    public void WriteTo(IBufferWriter<byte> output)
    {
        var w = new BencodeWriter(output);
        w.WriteDictionaryStart();
        switch (Type)
        {
            case KrpcMessageType.Query:
                w.WriteString("a"u8);
                WriteArguments(w);
                break;
            case KrpcMessageType.Error:
                w.WriteString("e"u8);
                w.WriteListStart();
                w.WriteInteger(ErrorCode);
                w.WriteString(ErrorMessage ?? string.Empty);
                w.WriteEnd();
                break;
        }

        if (RequesterEndPoint is not null)
        {
            w.WriteString("ip"u8);
            WriteEndPoint(w, RequesterEndPoint);
        }

        if (Type == KrpcMessageType.Query)
        {
            w.WriteString("q"u8);
            ReadOnlySpan<byte> name = DhtMethods.NameOf(Method);
            if (name.IsEmpty)
            {
                w.WriteString(MethodName ?? string.Empty);
            }
            else
            {
                w.WriteString(name);
            }
        }
        else if (Type == KrpcMessageType.Response)
        {
            w.WriteString("r"u8);
            WriteResponseBody(w);
        }

        if (ReadOnly)
        {
            w.WriteString("ro"u8);
            w.WriteInteger(1);
        }

        w.WriteString("t"u8);
        w.WriteString(TransactionId);
        if (ClientVersion is not null)
        {
            w.WriteString("v"u8);
            w.WriteString(ClientVersion);
        }

        w.WriteString("y"u8);
        w.WriteString(Type switch { KrpcMessageType.Query => "q"u8, KrpcMessageType.Response => "r"u8, _ => "e"u8 });
        w.WriteEnd();
    }

    /// <summary>The encoded message as a new array.</summary>
    public byte[] ToArray()
    {
        var output = new ArrayBufferWriter<byte>(256);
        WriteTo(output);
        return output.WrittenSpan.ToArray();
    }

    private void WriteArguments(BencodeWriter w)
    {
        bool isPut = Method == DhtMethod.Put;
        w.WriteDictionaryStart();
        if (isPut && CompareAndSwap is long cas)
        {
            WriteInteger(w, "cas"u8, cas);
        }

        WriteId(w, "id"u8, Id);
        if (Method == DhtMethod.AnnouncePeer)
        {
            if (ImpliedPort)
            {
                WriteInteger(w, "implied_port"u8, 1);
            }

            WriteId(w, "info_hash"u8, Target);
        }
        else if (Method == DhtMethod.GetPeers)
        {
            WriteId(w, "info_hash"u8, Target);
        }

        if (isPut)
        {
            WriteOptional(w, "k"u8, PublicKey);
        }

        if (Method == DhtMethod.AnnouncePeer)
        {
            WriteInteger(w, "port"u8, Port);
        }

        if (isPut)
        {
            WriteOptional(w, "salt"u8, Salt);
        }

        if ((isPut || Method == DhtMethod.Get) && Sequence is long seq)
        {
            WriteInteger(w, "seq"u8, seq);
        }

        if (isPut)
        {
            WriteOptional(w, "sig"u8, Signature);
        }

        if (Method is DhtMethod.FindNode or DhtMethod.Get or DhtMethod.SampleInfohashes)
        {
            WriteId(w, "target"u8, Target);
        }

        if (Method is DhtMethod.AnnouncePeer or DhtMethod.Put)
        {
            w.WriteString("token"u8);
            w.WriteString(Token ?? []);
        }

        if (isPut)
        {
            w.WriteString("v"u8);
            w.WriteRaw(ItemValue ?? "0:"u8);
        }

        if (Want != DhtWant.None)
        {
            w.WriteString("want"u8);
            w.WriteListStart();
            if ((Want & DhtWant.N4) != 0)
            {
                w.WriteString("n4"u8);
            }

            if ((Want & DhtWant.N6) != 0)
            {
                w.WriteString("n6"u8);
            }

            w.WriteEnd();
        }

        w.WriteEnd();
    }

    private void WriteResponseBody(BencodeWriter w)
    {
        w.WriteDictionaryStart();
        WriteId(w, "id"u8, Id);
        if (Interval is int interval)
        {
            WriteInteger(w, "interval"u8, interval);
        }

        WriteOptional(w, "k"u8, PublicKey);
        WriteNodes(w, "nodes"u8, Nodes, DhtContact.V4Length);
        WriteNodes(w, "nodes6"u8, Nodes6, DhtContact.V6Length);
        if (SampleCount is int num)
        {
            WriteInteger(w, "num"u8, num);
        }

        if (Samples is not null)
        {
            Span<byte> samples = Samples.Count <= 64 ? stackalloc byte[Samples.Count * NodeId.Length] : new byte[Samples.Count * NodeId.Length];
            for (int i = 0; i < Samples.Count; i++)
            {
                Samples[i].CopyTo(samples[(i * NodeId.Length)..]);
            }

            w.WriteString("samples"u8);
            w.WriteString(samples);
        }

        if (Sequence is long seq)
        {
            WriteInteger(w, "seq"u8, seq);
        }

        WriteOptional(w, "sig"u8, Signature);
        WriteOptional(w, "token"u8, Token);
        if (ItemValue is not null)
        {
            w.WriteString("v"u8);
            w.WriteRaw(ItemValue);
        }

        if (Values.Count > 0)
        {
            w.WriteString("values"u8);
            w.WriteListStart();
            foreach (IPEndPoint peer in Values)
            {
                WriteEndPoint(w, peer);
            }

            w.WriteEnd();
        }

        w.WriteEnd();
    }

    private static void WriteNodes(BencodeWriter w, ReadOnlySpan<byte> key, IReadOnlyList<DhtContact> nodes, int entryLength)
    {
        if (nodes.Count == 0)
        {
            return;
        }

        Span<byte> compact = nodes.Count <= 32 ? stackalloc byte[nodes.Count * entryLength] : new byte[nodes.Count * entryLength];
        int written = 0;
        foreach (DhtContact node in nodes)
        {
            // nodes holds IPv4 contacts, nodes6 IPv6 ones; a contact of the other family (an IPv4-mapped address
            // read from nodes6, say) is left out rather than written with the wrong length.
            if (node.IsV4 == (entryLength == DhtContact.V4Length))
            {
                written += node.Write(compact[written..]);
            }
        }

        if (written > 0)
        {
            w.WriteString(key);
            w.WriteString(compact[..written]);
        }
    }

    private static void WriteEndPoint(BencodeWriter w, IPEndPoint endPoint)
    {
        Span<byte> compact = stackalloc byte[CompactPeer.V6Length];
        w.WriteString(compact[..CompactPeer.Write(compact, endPoint)]);
    }

    private static void WriteId(BencodeWriter w, ReadOnlySpan<byte> key, NodeId id)
    {
        Span<byte> bytes = stackalloc byte[NodeId.Length];
        id.CopyTo(bytes);
        w.WriteString(key);
        w.WriteString(bytes);
    }

    private static void WriteInteger(BencodeWriter w, ReadOnlySpan<byte> key, long value)
    {
        w.WriteString(key);
        w.WriteInteger(value);
    }

    private static void WriteOptional(BencodeWriter w, ReadOnlySpan<byte> key, byte[]? value)
    {
        if (value is not null)
        {
            w.WriteString(key);
            w.WriteString(value);
        }
    }
}
