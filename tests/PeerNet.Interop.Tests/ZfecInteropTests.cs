using System.Text.Json.Serialization;
using PeerNet.Erasure;

namespace PeerNet.Interop.Tests;

/// <summary>
/// PeerNet's Reed-Solomon coder against zfec (Tahoe-LAFS's, through Debian's python3-zfec): the same k and n give
/// byte-identical shares, zfec rebuilds data from shares PeerNet coded and PeerNet from shares zfec coded.
/// </summary>
public sealed class ZfecInteropTests
{
    private const int TestTimeout = 120_000;

    public static TheoryData<int, int, int> Codes => new()
    {
        { 1, 1, 97 },
        { 1, 4, 64 },
        { 3, 10, 1001 }, // Tahoe's default, with a tail the vector kernels leave to the scalar one
        { 5, 8, 4096 },
        { 10, 16, 333 },
        { 16, 32, 65536 },
        { 20, 256, 50 }, // zfec's widest code
    };

    [Theory(Timeout = TestTimeout)]
    [MemberData(nameof(Codes))]
    public async Task Shares_equal_zfecs_and_each_side_decodes_the_others(int k, int n, int blockLength)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        ReferenceTools.Require(ReferenceTool.Zfec);
        using var folder = new TempDirectory("zfec");
        var random = new Random((k * 1000) + n);
        byte[] content = new byte[k * blockLength];
        random.NextBytes(content);
        string contentPath = folder.Combine("data");
        await File.WriteAllBytesAsync(contentPath, content, ct);
        Directory.CreateDirectory(folder.Combine("zfec"));
        await PythonScripts.RunJsonAsync<ZfecAnswer>("zfec_code.py", ["encode", $"{k}", $"{n}", contentPath, folder.Combine("zfec")], cancellationToken: ct);

        var code = new ReedSolomon(k, n);
        ReadOnlyMemory<byte>[] data = [.. Enumerable.Range(0, k).Select(i => new ReadOnlyMemory<byte>(content, i * blockLength, blockLength))];
        byte[][] parity = [.. Enumerable.Range(0, n - k).Select(_ => new byte[blockLength])];
        code.Encode(data, [.. parity.Select(p => (Memory<byte>)p)]);
        byte[][] ours = [.. data.Select(d => d.ToArray()), .. parity];
        for (int share = 0; share < n; share++)
        {
            byte[] theirs = await File.ReadAllBytesAsync(folder.Combine("zfec", $"{share}"), ct);
            Assert.True(theirs.AsSpan().SequenceEqual(ours[share]), $"share {share} of {k}-of-{n} differs from zfec's");
        }

        // Any k, parity first: the rebuild has work to do. zfec decodes our shares; we decode zfec's.
        int[] held = [.. Enumerable.Range(0, n).Reverse().Take(k).OrderBy(_ => random.Next())];
        Directory.CreateDirectory(folder.Combine("ours"));
        foreach (int share in held)
        {
            await File.WriteAllBytesAsync(folder.Combine("ours", $"{share}"), ours[share], ct);
        }

        string rebuiltPath = folder.Combine("rebuilt");
        await PythonScripts.RunJsonAsync<ZfecAnswer>(
            "zfec_code.py", ["decode", $"{k}", $"{n}", rebuiltPath, .. held.Select(s => $"{s}:{folder.Combine("ours", $"{s}")}")], cancellationToken: ct);
        byte[] rebuiltByZfec = await File.ReadAllBytesAsync(rebuiltPath, ct);
        Assert.True(content.AsSpan().SequenceEqual(rebuiltByZfec), "zfec did not rebuild the data from PeerNet's shares");

        ReadOnlyMemory<byte>[] theirShares = new ReadOnlyMemory<byte>[k];
        for (int i = 0; i < k; i++)
        {
            theirShares[i] = await File.ReadAllBytesAsync(folder.Combine("zfec", $"{held[i]}"), ct);
        }

        byte[] rebuilt = new byte[content.Length];
        code.Decode(theirShares, held, [.. Enumerable.Range(0, k).Select(i => new Memory<byte>(rebuilt, i * blockLength, blockLength))]);
        Assert.True(content.AsSpan().SequenceEqual(rebuilt), "PeerNet did not rebuild the data from zfec's shares");
    }

    private sealed record ZfecAnswer([property: JsonPropertyName("version")] string Version);
}
