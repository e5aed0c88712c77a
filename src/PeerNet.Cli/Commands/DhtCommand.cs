using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using PeerNet.Cli.Output;
using PeerNet.Discovery.Dht;

namespace PeerNet.Cli.Commands;

/// <summary>
/// <c>peernet dht</c>: runs a Mainline DHT node and prints its routing table's health; <c>dht get</c> and
/// <c>dht put</c> read and store BEP 44 items: immutable ones by target, mutable ones by public key and salt, signed
/// with a key kept in the state directory.
/// </summary>
internal static class DhtCommand
{
    public static Command Build()
    {
        var bind = new Option<string>("--bind") { Description = "Address to bind (0.0.0.0 by default; an IPv6 address runs the IPv6 DHT).", HelpName = "ADDRESS" };
        var port = PeerOptions.PortOption("UDP port (0: any free one).");
        var bootstrap = new Option<string[]>("--bootstrap") { Description = "A node to join through (repeatable). Default: the well-known public routers.", HelpName = "HOST:PORT" };
        var duration = new Option<int>("--duration") { Description = "Stop after this many seconds (default: run until Ctrl+C).", HelpName = "S" };
        var command = new Command("dht", "Run a Mainline DHT node and print its routing table's health every 5 s.") { bind, port, bootstrap, duration };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            // The duration counts from the start, the DHT's join included: --duration 10 stops after 10 s, joined or not.
            int seconds = parseResult.GetValue(duration);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (seconds > 0)
            {
                stop.CancelAfter(TimeSpan.FromSeconds(seconds));
            }

            return await RunNodeAsync(parseResult, bind, port, bootstrap, readOnly: false, async (node, stdout, token) =>
            {
                await stdout.WriteLineAsync($"DHT node {node.NodeIdHex} on UDP {node.LocalEndPoint}").ConfigureAwait(false);
                try
                {
                    while (true)
                    {
                        await stdout.WriteLineAsync(Describe(node.GetStats())).ConfigureAwait(false);
                        await Task.Delay(TimeSpan.FromSeconds(5), stop.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    await stdout.WriteLineAsync(Describe(node.GetStats())).ConfigureAwait(false);
                    return 0;
                }
            }, stop.Token, cancellationToken).ConfigureAwait(false);
        });

        var salt = new Option<string>("--salt") { Description = "Mutable items: the salt (BEP 44; at most 64 bytes), so one key can sign several items.", HelpName = "TEXT" };
        var target = new Argument<string>("target") { Description = "An immutable item's target: 40 hex digits (what put printed).", Arity = ArgumentArity.ZeroOrOne };
        var publicKey = new Option<string>("--key") { Description = "Get the mutable item signed by this Ed25519 public key (64 hex digits; what put --mutable printed).", HelpName = "HEX" };
        var get = new Command("get", "Look up a BEP 44 item and print its value: immutable by TARGET, or mutable by --key [--salt].") { target, publicKey, salt, bind, port, bootstrap };
        get.SetAction((parseResult, cancellationToken) => RunNodeAsync(parseResult, bind, port, bootstrap, readOnly: true, async (node, stdout, token) =>
        {
            byte[]? value;
            if (parseResult.GetValue(publicKey) is { } keyHex)
            {
                DhtMutableItem? item = await node.GetMutableAsync(ParseHex(keyHex, 32, "public key"), Salt(parseResult.GetValue(salt)), token).ConfigureAwait(false);
                value = item?.Value;
                if (item is not null)
                {
                    await parseResult.InvocationConfiguration.Error.WriteLineAsync($"seq {item.Sequence}, signature verified").ConfigureAwait(false);
                }
            }
            else
            {
                string hex = parseResult.GetValue(target) ?? throw new ArgumentException("Give a TARGET (immutable item) or --key (mutable item).");
                value = await node.GetImmutableAsync(new Sha1Hash(ParseHex(hex, 20, "target")), token).ConfigureAwait(false);
            }

            if (value is null)
            {
                await stdout.WriteLineAsync("not found").ConfigureAwait(false);
                return 1;
            }

            await stdout.WriteLineAsync(ShowValue(value)).ConfigureAwait(false);
            return 0;
        }, default, cancellationToken));

        var text = new Argument<string>("text") { Description = "The value to store, as a bencoded string." };
        var mutable = new Option<bool>("--mutable") { Description = "Store a mutable item signed with the key in --key-file (created on first use) instead of an immutable one." };
        var keyFile = new Option<string>("--key-file") { Description = "The 32-byte Ed25519 private key seed that signs mutable items. Default: $XDG_STATE_HOME/peernet/dht-item.key.", HelpName = "PATH" };
        var sequence = new Option<long?>("--seq") { Description = "Mutable items: the sequence number (default: one above the item's current one, or 1).", HelpName = "N" };
        var put = new Command("put", "Store a string as a BEP 44 item; prints its target (and, for --mutable, the public key and seq).") { text, mutable, keyFile, salt, sequence, bind, port, bootstrap };
        put.SetAction((parseResult, cancellationToken) => RunNodeAsync(parseResult, bind, port, bootstrap, readOnly: true, async (node, stdout, token) =>
        {
            byte[] bytes = Encoding.UTF8.GetBytes(parseResult.GetRequiredValue(text));
            byte[] value = [.. Encoding.ASCII.GetBytes(bytes.Length.ToString(CultureInfo.InvariantCulture) + ":"), .. bytes];
            if (!parseResult.GetValue(mutable))
            {
                DhtPutResult stored = await node.PutImmutableAsync(value, token).ConfigureAwait(false);
                await stdout.WriteLineAsync($"{stored.Target} stored on {Count.Of(stored.AcceptedBy, "node")}").ConfigureAwait(false);
                return stored.AcceptedBy > 0 ? 0 : 1;
            }

            byte[] seed = MutableItemKey.LoadOrCreate(parseResult.GetValue(keyFile) ?? Path.Combine(PeerOptions.StateDirectory(), "dht-item.key"));
            byte[] key = DhtNode.MutableItemPublicKey(seed);
            byte[] saltBytes = Salt(parseResult.GetValue(salt));
            long seq = parseResult.GetValue(sequence)
                ?? ((await node.GetMutableAsync(key, saltBytes, token).ConfigureAwait(false))?.Sequence + 1 ?? 1);
            DhtPutResult result = await node.PutMutableAsync(seed, saltBytes, value, seq, token).ConfigureAwait(false);
            await stdout.WriteLineAsync($"{result.Target} stored on {Count.Of(result.AcceptedBy, "node")}; key {Convert.ToHexStringLower(key)} seq {seq}").ConfigureAwait(false);
            return result.AcceptedBy > 0 ? 0 : 1;
        }, default, cancellationToken));

        command.Subcommands.Add(get);
        command.Subcommands.Add(put);
        return command;
    }

    /// <summary>One line of routing-table health, for operators and scripts.</summary>
    public static string Describe(DhtStats s) => string.Create(
        CultureInfo.InvariantCulture,
        $"nodes {s.Nodes} (good {s.GoodNodes}, questionable {s.QuestionableNodes}, bad {s.BadNodes}, replacements {s.ReplacementNodes}) in {Count.Of(s.Buckets, "bucket")}; stored {Count.Of(s.StoredInfoHashes, "info-hash", "info-hashes")}, {Count.Of(s.StoredPeers, "peer")}; queries sent {s.QueriesSent}, received {s.QueriesReceived}, dropped {s.QueriesDropped}; external address {s.ExternalAddress?.ToString() ?? "unknown"}");

    /// <summary>
    /// An item's value as a person reads it: a bencoded string (what <c>dht put</c> stores) shows its content, anything
    /// else its bencoding; as text when that is UTF-8 (anyone can store any bytes under a target, so its controls are
    /// replaced), else as hex.
    /// </summary>
    internal static string ShowValue(byte[] value)
    {
        ReadOnlySpan<byte> shown = BencodedString(value, out ReadOnlySpan<byte> content) ? content : value;
        try
        {
            return DisplayText.Sanitize(StrictUtf8.GetString(shown));
        }
        catch (DecoderFallbackException)
        {
            return Convert.ToHexStringLower(shown);
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Whether <paramref name="value"/> is exactly one bencoded string (<c>5:hello</c>), and its bytes.</summary>
    private static bool BencodedString(ReadOnlySpan<byte> value, out ReadOnlySpan<byte> content)
    {
        content = default;
        int colon = value.IndexOf((byte)':');
        if (colon is < 1 or > 9 || (value[0] == (byte)'0' && colon > 1)
            || !int.TryParse(value[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out int length)
            || length != value.Length - colon - 1)
        {
            return false;
        }

        content = value[(colon + 1)..];
        return true;
    }

    private static byte[] ParseHex(string hex, int bytes, string what)
        => hex.Length == bytes * 2 && hex.All(Uri.IsHexDigit)
            ? Convert.FromHexString(hex)
            : throw new FormatException($"'{hex}' is not a {what} ({bytes * 2} hex digits).");

    /// <summary>The salt's UTF-8 bytes; the DHT node refuses one longer than BEP 44's 64 bytes with a clear error.</summary>
    private static byte[] Salt(string? text) => Encoding.UTF8.GetBytes(text ?? "");

    /// <summary>Runs <paramref name="body"/> on a DHT node; get and put run read-only (BEP 43): they leave when done.</summary>
    private static Task<int> RunNodeAsync(ParseResult parseResult, Option<string> bind, Option<int> port, Option<string[]> bootstrap, bool readOnly, Func<DhtNode, TextWriter, CancellationToken, Task<int>> body, CancellationToken stopJoining, CancellationToken cancellationToken)
    {
        TextWriter stdout = parseResult.InvocationConfiguration.Output;
        TextWriter stderr = parseResult.InvocationConfiguration.Error;
        return CommandRunner.RunAsync(stderr, async () =>
        {
            IPAddress ip = PeerOptions.ParseAddress(parseResult.GetValue(bind), IPAddress.Any);

            DhtNode node = await SessionFactory.StartDhtAsync(ip, parseResult.GetValue(port), parseResult.GetValue(bootstrap), stderr, readOnly, stopJoining, cancellationToken).ConfigureAwait(false);
            await using (node.ConfigureAwait(false))
            {
                return await body(node, stdout, cancellationToken).ConfigureAwait(false);
            }
        });
    }
}
