namespace PeerNet.Bencode;

public sealed partial class BencodeDocument
{
    /// <summary>
    /// Walks the subtree of token <paramref name="index"/> once for libtorrent's soft errors (see
    /// <see cref="BencodeNode.FindSoftError"/>). Linear in the subtree: each dictionary's keys are compared with
    /// their neighbour only, which finds both disorder and repeats since sorted keys must strictly increase.
    /// </summary>
    internal int FindSoftError(int index)
    {
        ReadOnlySpan<byte> source = Source.Span;
        int end = GetToken(index).Next;
        for (int i = index; i < end; i++)
        {
            ref readonly Token t = ref GetToken(i);
            switch (t.Kind)
            {
                case BencodeKind.Integer when source[t.Start + 1] == (byte)'0' && source[t.Start + 2] != (byte)'e':
                case BencodeKind.String when source[t.Start] == (byte)'0' && source[t.Start + 1] != (byte)':':
                    return t.Start;
                case BencodeKind.Dictionary:
                    int unsorted = FindUnsortedKey(i);
                    if (unsorted >= 0)
                    {
                        return unsorted;
                    }

                    break;
            }
        }

        return -1;
    }

    private int FindUnsortedKey(int dictionary)
    {
        ReadOnlySpan<byte> source = Source.Span;
        int end = GetToken(dictionary).Next;
        int previous = -1;
        for (int key = dictionary + 1; key < end; key = GetToken(key + 1).Next)
        {
            ref readonly Token k = ref GetToken(key);
            if (previous >= 0)
            {
                ref readonly Token p = ref GetToken(previous);
                if (source[p.ValueStart..p.End].SequenceCompareTo(source[k.ValueStart..k.End]) >= 0)
                {
                    return k.Start;
                }
            }

            previous = key;
        }

        return -1;
    }
}
