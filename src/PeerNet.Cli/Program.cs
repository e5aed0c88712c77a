namespace PeerNet.Cli;

internal static class Program
{
    public static Task<int> Main(string[] args) => PeerNetCli.RunAsync(args);
}
