using SharpFuzz;

namespace PeerNet.Fuzz;

/// <summary>
/// <c>dotnet PeerNet.Fuzz.dll TARGET</c> runs TARGET under AFL++ (started by fuzz/run.sh);
/// <c>dotnet PeerNet.Fuzz.dll TARGET FILE...</c> runs it once over each file, to reproduce a finding.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Targets.All.TryGetValue(args[0], out FuzzTarget? target))
        {
            Console.Error.WriteLine($"usage: PeerNet.Fuzz TARGET [FILE...]; targets: {string.Join(", ", Targets.All.Keys)}");
            return 2;
        }

        if (args.Length > 1)
        {
            foreach (string file in args.AsSpan(1))
            {
                target(File.ReadAllBytes(file));
                Console.WriteLine($"{args[0]}: {file}: ok");
            }

            return 0;
        }

        // AFL++ hands each input over as a stream; SharpFuzz reports any exception that escapes as a crash.
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            target(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        });
        return 0;
    }
}
