using System.Text;
using PeerNet.Magnet;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="MagnetLink.TryParse"/> over the input decoded as UTF-8: a parsed link's canonical form
/// (<see cref="MagnetLink.ToString"/>) parses again to an equal link with the same canonical form, and a
/// refused one has an error message that is safe to print (<see cref="DisplayText"/>).
/// </summary>
public static class MagnetTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        string text = Encoding.UTF8.GetString(data);
        if (!MagnetLink.TryParse(text, out MagnetLink? link, out string? error))
        {
            Check.That(!string.IsNullOrEmpty(error), "refused with no message");
            Check.That(DisplayText.IndexOfUnsafe(error) < 0, $"the message holds a control or bidi character at {DisplayText.IndexOfUnsafe(error)}");
            return;
        }

        string canonical = link.ToString();
        Check.That(canonical.Length <= MagnetLimits.MaxLength, $"canonical form is {canonical.Length} characters");
        Check.That(MagnetLink.TryParse(canonical, out MagnetLink? again, out string? againError), $"canonical form '{canonical}' is refused: {againError}");
        Check.Equal(canonical, again.ToString(), "canonical form after a round trip");
        Check.Equal(link.InfoHashes, again.InfoHashes, "info-hashes");
        Check.Equal(link.DisplayName, again.DisplayName, "display name");
        Check.Equal(link.ExactLength, again.ExactLength, "exact length");
        Check.SequenceEqual(link.Trackers, again.Trackers, "trackers");
        Check.SequenceEqual(link.WebSeeds, again.WebSeeds, "web seeds");
        Check.SequenceEqual(link.Peers, again.Peers, "peers");
        Check.SequenceEqual(link.SelectOnly, again.SelectOnly, "select-only");
        Check.SequenceEqual(link.OtherParameters.Keys, again.OtherParameters.Keys, "other parameter names");
        foreach ((string key, IReadOnlyList<string> values) in link.OtherParameters)
        {
            Check.SequenceEqual(values, again.OtherParameters[key], $"values of '{key}'");
        }

        Check.That(link.InfoHashes.V1 is not null || link.InfoHashes.V2 is not null, "a link with no info-hash");
    }
}
