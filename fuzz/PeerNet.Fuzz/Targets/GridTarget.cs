using System.Text;
using PeerNet.Grid;
using PeerNet.Grid.Protos;

namespace PeerNet.Fuzz;

/// <summary>
/// The storage grid's parsers, chosen by the first byte: 0, a capability (the rest as UTF-8 text: refused with a reason,
/// or formatted back to the same text); 1, a share (header parse, and the provider's whole-share check: no throw, a
/// parsed header encodes back to its bytes); 2, a Merkle proof (leaf, index, leaf count, proof, root: no throw);
/// 3, a store request and a store answer (refused with a reason or parsed).
/// </summary>
public static class GridTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        ReadOnlySpan<byte> rest = data[1..];
        switch (data[0] % 4)
        {
            case 0:
                {
                    string text = Encoding.UTF8.GetString(rest);
                    if (GridCapability.TryParse(text, out GridCapability? capability, out string? error))
                    {
                        Check.Equal(text, capability!.ToString(), "capability text after a round trip");
                        Check.Equal(capability.ToVerify().ToString(), GridCapability.Parse(capability.ToVerify().ToString()).ToString(), "verify capability round trip");
                    }
                    else
                    {
                        Check.That(!string.IsNullOrEmpty(error), "refused with no error");
                    }

                    break;
                }

            case 1:
                {
                    if (GridShareHeader.TryParse(rest, exact: false, out GridShareHeader? header, out string? error))
                    {
                        Check.Bytes(rest[..GridShareHeader.LengthFor(header!.Extension.N)], header.Encode(), "header bytes after a round trip");
                        _ = header.RootIsProven();
                    }
                    else
                    {
                        Check.That(!string.IsNullOrEmpty(error), "refused with no error");
                    }

                    bool whole = GridFile.CheckShare(rest, out _, out string? shareError);
                    Check.That(whole || !string.IsNullOrEmpty(shareError), "a share refused with no error");
                    break;
                }

            case 2:
                {
                    if (rest.Length < 72)
                    {
                        return;
                    }

                    int index = BitConverter.ToInt32(rest[32..36]);
                    int count = BitConverter.ToInt32(rest[36..40]);
                    _ = GridMerkle.Verify(rest[..32], index, count, rest[72..], rest[40..72]);
                    break;
                }

            default:
                {
                    if (!GridStoreCodec.TryParseRequest(rest, out StoreRequest? request, out string? error))
                    {
                        Check.That(!string.IsNullOrEmpty(error) && request is null, "a request refused with no error, or with a request");
                    }

                    _ = GridStoreCodec.TryParseResponse(rest, out _, out _);
                    break;
                }
        }
    }
}
