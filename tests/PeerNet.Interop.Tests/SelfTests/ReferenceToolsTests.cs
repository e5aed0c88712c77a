namespace PeerNet.Interop.Tests.SelfTests;

public sealed class ReferenceToolsTests
{
    [Theory]
    [InlineData(true, null, InteropDecision.Run)]
    [InlineData(true, "1", InteropDecision.Run)]
    [InlineData(true, "0", InteropDecision.Run)]
    [InlineData(false, null, InteropDecision.Skip)]
    [InlineData(false, "", InteropDecision.Skip)]
    [InlineData(false, "0", InteropDecision.Skip)]
    [InlineData(false, "yes please", InteropDecision.Skip)]
    [InlineData(false, "1", InteropDecision.Fail)]
    [InlineData(false, " 1 ", InteropDecision.Fail)]
    [InlineData(false, "true", InteropDecision.Fail)]
    [InlineData(false, "TRUE", InteropDecision.Fail)]
    public void Decide_AvailabilityAndRequireVariable_GivesPolicy(bool available, string? requireValue, InteropDecision expected)
        => Assert.Equal(expected, ReferenceTools.Decide(available, requireValue));

    // Enforce() turns the decision into Assert.Skip / Assert.Fail. It is not called here: xunit v3 reports any test
    // that saw a dynamic-skip exception as skipped, even one caught by Assert.Throws. The messages are checked instead.
    [Fact]
    public void SkipMessage_MissingTool_NamesToolAndInstallHint()
        => Assert.Equal(
            "mktorrent not installed: apt-get install -y --no-install-recommends mktorrent ('mktorrent' is not on PATH; set PEERNET_REQUIRE_INTEROP=1 to make this a failure)",
            ReferenceTools.SkipMessage(Missing()));

    [Fact]
    public void FailMessage_MissingTool_SaysRequiredInCiAndWhy()
        => Assert.StartsWith(
            "mktorrent is required in CI but missing: 'mktorrent' is not on PATH (PEERNET_REQUIRE_INTEROP=1;",
            ReferenceTools.FailMessage(Missing(), "1"),
            StringComparison.Ordinal);

    [Fact]
    public void Enforce_AvailableTool_ReturnsItWhateverTheVariable()
    {
        var present = new ToolInfo(ReferenceTool.Mktorrent, "mktorrent", "mktorrent", "/usr/bin/mktorrent", "mktorrent 1.1", null);

        Assert.Same(present, ReferenceTools.Enforce(present, "1"));
        Assert.Same(present, ReferenceTools.Enforce(present, null));
    }

    public static TheoryData<ReferenceTool> AllTools => [.. ReferenceTools.All];

    /// <summary>In CI (PEERNET_REQUIRE_INTEROP=1) this fails for any tool .ci/run did not install; elsewhere it skips.</summary>
    [Theory]
    [MemberData(nameof(AllTools))]
    public void Require_InstalledTool_ReportsPathAndVersion(ReferenceTool tool)
    {
        ToolInfo info = ReferenceTools.Require(tool);

        Assert.True(File.Exists(info.Path), $"{info.Path} does not exist");
        Assert.False(string.IsNullOrWhiteSpace(info.Version));
        TestContext.Current.TestOutputHelper?.WriteLine($"{tool}: {info.Path} ({info.Version})");
    }

    [Fact]
    public void Locate_SameTool_IsCachedPerRun()
        => Assert.Same(ReferenceTools.Locate(ReferenceTool.Mktorrent), ReferenceTools.Locate(ReferenceTool.Mktorrent));

    private static ToolInfo Missing()
        => new(ReferenceTool.Mktorrent, "mktorrent", "mktorrent", null, null, "'mktorrent' is not on PATH");
}
