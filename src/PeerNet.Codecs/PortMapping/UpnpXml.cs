using System.Xml;

namespace PeerNet.PortMapping;

/// <summary>
/// The one way UPnP XML is read here: no DTD (a document with one is refused, so no external entity is fetched and no
/// entity expands), no resolver, a cap on characters, on element depth and on the bytes handed in. What a router sends is
/// hostile until read.
/// </summary>
internal static class UpnpXml
{
    /// <summary>Deepest element nesting accepted: 24 (a gateway's description nests about 8 deep).</summary>
    public const int MaxDepth = 24;

    /// <summary>A reader over <paramref name="document"/> that refuses DTDs and stops past <paramref name="maxCharacters"/>.</summary>
    public static XmlReader Create(byte[] document, int maxCharacters)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = maxCharacters,
            MaxCharactersFromEntities = 1024,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
            CloseInput = true,
        };
        return XmlReader.Create(new MemoryStream(document, writable: false), settings);
    }

    /// <summary>
    /// Whether <paramref name="e"/>, thrown while reading a document, means the document is malformed: an
    /// <see cref="XmlException"/>, or an <see cref="ArgumentException"/> (a <c>DecoderFallbackException</c> among them)
    /// that the framework's reader throws on some broken encoding declarations: a declaration running into bytes that
    /// are not UTF-8 makes <c>XmlTextReaderImpl.SwitchEncoding</c> copy a negative count (found by the <c>upnp-xml</c>
    /// fuzz target; fuzz/regressions/upnp-xml).
    /// </summary>
    public static bool IsMalformed(Exception e) => e is XmlException or ArgumentException;

    /// <summary>Reads the next node, refusing nesting deeper than <see cref="MaxDepth"/>.</summary>
    public static bool Read(XmlReader reader)
    {
        if (!reader.Read())
        {
            return false;
        }

        if (reader.Depth > MaxDepth)
        {
            throw new XmlException($"elements nest deeper than {MaxDepth}");
        }

        return true;
    }

    /// <summary>
    /// The text of the element the reader is on, at most <paramref name="maxLength"/> characters (longer is refused); the
    /// reader ends past the element's end tag. Child elements are refused.
    /// </summary>
    public static string ReadText(XmlReader reader, int maxLength)
    {
        if (reader.IsEmptyElement)
        {
            reader.Read();
            return "";
        }

        int depth = reader.Depth;
        var text = new System.Text.StringBuilder();
        while (Read(reader))
        {
            if (reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth)
            {
                reader.Read();
                return text.ToString().Trim();
            }

            if (reader.NodeType is XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.SignificantWhitespace or XmlNodeType.Whitespace)
            {
                text.Append(reader.Value);
                if (text.Length > maxLength)
                {
                    throw new XmlException($"a value is longer than {maxLength} characters");
                }
            }
            else if (reader.NodeType == XmlNodeType.Element)
            {
                throw new XmlException($"element <{reader.LocalName}> where text was expected");
            }
        }

        throw new XmlException("the document ends inside an element");
    }
}
