using System.Globalization;
using System.Text.Json.Nodes;
using PeerNet.Cli.Commands;
using PeerNet.Libp2p;

namespace PeerNet.Interop.Tests;

/// <summary>
/// <c>peernet chat</c> as people run it: two real <c>peernet chat TOPIC --peer ...</c> processes and a js-libp2p 3 peer
/// (libp2p-js/peer.mjs) in one room on loopback. A line typed into either chat is printed by the other as
/// <c>SHORTID: text</c> and reaches js-libp2p signed by that chat's peer ID; what js-libp2p publishes is printed by
/// both chats.
/// </summary>
public sealed class ChatInteropTests
{
    private const string Topic = "peernet-chat-room";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 180_000)]
    public async Task Two_peernet_chats_and_js_libp2p_hear_each_other_on_a_topic()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        ToolInfo tool = ReferenceTools.Require(ReferenceTool.JsLibp2p);
        await using JsLibp2pPeer js = await JsLibp2pPeer.StartAsync(tool, ct);
        await js.RequestAsync(new JsonObject { ["cmd"] = "subscribe", ["topic"] = Topic }, Ct);

        // Chat A dials js; chat B dials A and js: a room of three.
        await using PeerNetProcess a = await PeerNetProcess.StartChatAsync(Topic, [js.Addresses[0]], Ct);
        await using PeerNetProcess b = await PeerNetProcess.StartChatAsync(Topic, [a.Address!, js.Addresses[0]], Ct);
        Libp2pPeerId aId = PeerIdOf(a);
        Libp2pPeerId bId = PeerIdOf(b);
        Libp2pPeerId jsId = Libp2pPeerId.Parse(js.PeerId);

        // Each chat says on stderr who joined the topic; js sees both chats subscribed.
        foreach ((PeerNetProcess chat, Libp2pPeerId[] others) in new[] { (a, new[] { bId, jsId }), (b, new[] { aId, jsId }) })
        {
            foreach (Libp2pPeerId other in others)
            {
                await chat.Process.WaitForErrorLineAsync(l => l == $"{ChatCommand.Short(other)} joined ({other})", Timeout, Ct);
            }
        }

        await Libp2pDhtInteropTests.WaitForAsync(
            async () =>
            {
                JsonNode answer = await js.RequestAsync(new JsonObject { ["cmd"] = "meshPeers", ["topic"] = Topic }, Ct);
                string?[] subscribers = [.. answer["subscribers"]!.AsArray().Select(p => (string?)p)];
                return subscribers.Contains(aId.ToString()) && subscribers.Contains(bId.ToString());
            },
            "both chats subscribed, as js sees it");

        // A line typed into each chat: printed by the other chat, delivered to js from that chat's peer ID.
        foreach ((PeerNetProcess from, Libp2pPeerId fromId, PeerNetProcess to, string text) in new[] { (a, aId, b, "hello from chat A"), (b, bId, a, "and from chat B") })
        {
            await from.Process.WriteLineAsync(text, Ct);
            await to.Process.WaitForLineAsync(l => l == $"{ChatCommand.Short(fromId)}: {text}", Timeout, Ct);
            JsonNode atJs = await js.WaitForEventAsync("message", e => (string?)e["data"] == text, Timeout, Ct);
            Assert.Equal(fromId.ToString(), (string?)atJs["from"]);
            Assert.Equal(Topic, (string?)atJs["topic"]);
        }

        // What js publishes, both chats print.
        await js.RequestAsync(new JsonObject { ["cmd"] = "publish", ["topic"] = Topic, ["data"] = "hi from js-libp2p" }, Ct);
        foreach (PeerNetProcess chat in new[] { a, b })
        {
            await chat.Process.WaitForLineAsync(l => l == $"{ChatCommand.Short(jsId)}: hi from js-libp2p", Timeout, Ct);
        }

        // Nobody printed a line twice, and no chat echoed its own line back.
        foreach ((PeerNetProcess chat, Libp2pPeerId self) in new[] { (a, aId), (b, bId) })
        {
            IReadOnlyList<string> lines = chat.Process.Lines;
            Assert.Equal(lines.Count, lines.Distinct().Count());
            Assert.DoesNotContain(lines, l => l.StartsWith($"{ChatCommand.Short(self)}: ", StringComparison.Ordinal));
        }

        Assert.DoesNotContain("not sent", a.Process.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("not sent", b.Process.StandardError, StringComparison.Ordinal);

        // Ctrl+C is how a chat ends: a clean exit.
        foreach (PeerNetProcess chat in new[] { a, b })
        {
            await ProcessRunner.RunAsync("kill", ["-INT", chat.Process.Id.ToString(CultureInfo.InvariantCulture)], Timeout, cancellationToken: Ct);
            Assert.Equal(0, await chat.Process.WaitForExitAsync(Timeout, Ct));
        }
    }

    private static Libp2pPeerId PeerIdOf(PeerNetProcess chat)
        => Libp2pPeerId.Parse(chat.Address![(chat.Address!.IndexOf("/p2p/", StringComparison.Ordinal) + "/p2p/".Length)..]);
}
