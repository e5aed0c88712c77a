using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using PeerNet.Daemon.Service;
using PeerNet.Grid;

namespace PeerNet.Daemon.Api;

/// <summary>
/// Redundant storage, under <c>/api/v1/storage</c> (docs/storage.md): the space this node lends, the files it put and
/// their health, uploads (encrypted and coded into k-of-n shares on other peers), downloads and checks by capability.
/// A read capability is the file's key: it is answered only to authenticated callers (as every API call is), and taken
/// in request bodies, never in URLs, so it stays out of logs and browser history.
/// </summary>
internal static class StorageEndpoints
{
    /// <summary>The upload endpoint, whose body limit is <c>Storage:MaxUpload</c> rather than <c>Api:MaxRequestBodyBytes</c>.</summary>
    public const string FilesPath = "/api/v1/storage/files";

    /// <summary>What a multipart upload may carry besides the file (boundaries, part headers).</summary>
    public const long MultipartOverhead = 64 * 1024;

    public static void MapStorageApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder storage = app.MapGroup("/api/v1/storage").WithTags("Storage");
        storage.MapGet("/", Summary).WithSummary("The space this node lends (quota, used, shares held), the files it put and the providers it stopped using");
        storage.MapGet("/files", Files).WithSummary("The files this node put: read capability (a secret: it decrypts the file), verify capability, name, size, k, n, healthy shares at the last check, when stored");
        storage.MapPost("/files", PutAsync)
            .WithSummary("Store a file: a multipart upload (field 'file') or a raw application/octet-stream body with ?name=; ?shares=K-of-N (default 3-of-10). Encrypted, coded into N shares on other peers; answers the read capability once K are acknowledged")
            .Accepts<Stream>("application/octet-stream", "multipart/form-data")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .DisableAntiforgery();
        storage.MapPost("/get", GetAsync)
            .WithSummary("Fetch a stored file by its read capability ({capability}): any K shares, every block checked, decrypted and streamed")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status502BadGateway);
        storage.MapPost("/check", CheckAsync).WithSummary("Audit a stored file's providers ({capability, repair}; a verify capability is enough): healthy shares of N, and with repair the missing ones regenerated on new peers");
    }

    private static Ok<StorageDto> Summary(NodeService service)
    {
        GridStorage storage = service.Node.Storage;
        return TypedResults.Ok(new StorageDto(storage.QuotaBytes, storage.LentBytes, storage.SharesHeld, storage.List().Count, service.StorageSettings.MaxUploadBytes, storage.BadProviders));
    }

    private static Ok<StoredFileDto[]> Files(NodeService service) =>
        TypedResults.Ok(service.Node.Storage.List().Reverse().Select(f => StoredFileDto.Of(f, service.StorageNames.NameOf(f.Capability))).ToArray());

    private static async Task<Results<Created<StoredFileDto>, ProblemHttpResult>> PutAsync(HttpRequest request, NodeService service, CancellationToken ct)
    {
        (int k, int n) = (3, 10);
        if (request.Query["shares"].ToString() is { Length: > 0 } shares && !TryParseShares(shares, out k, out n))
        {
            return Problems.BadRequest("bad shares", $"'{DisplayText.Sanitize(shares, 40)}' is not K-of-N with 1 ≤ K ≤ N ≤ 256, as in 3-of-10");
        }

        long max = service.StorageSettings.MaxUploadBytes;
        long limit = request.HasFormContentType ? max + MultipartOverhead : max;
        if (request.ContentLength > limit)
        {
            return TooLarge(max);
        }

        Directory.CreateDirectory(service.UploadFolder);
        var staged = new FileStream(Path.Combine(service.UploadFolder, Guid.NewGuid().ToString("N") + ".upload"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await using (staged)
        {
            string? name = request.Query["name"];
            try
            {
                if (request.HasFormContentType)
                {
                    if (await ReadMultipartFileAsync(request, staged, max, ct) is not { } filename)
                    {
                        return Problems.BadRequest("no file", "send the file in a multipart field named 'file' (with a file name), or as a raw application/octet-stream body");
                    }

                    name ??= filename;
                }
                else if (request.ContentType?.StartsWith("application/octet-stream", StringComparison.OrdinalIgnoreCase) == true)
                {
                    await CopyLimitedAsync(request.Body, staged, max, ct);
                }
                else
                {
                    // Routing answers 415 first (the endpoint declares what it accepts); this is for a request that slips past it.
                    return Problems.BadRequest("unsupported content type", "send multipart/form-data (field 'file') or application/octet-stream (with ?name=)");
                }
            }
            catch (UploadTooLargeException)
            {
                return TooLarge(max);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return TooLarge(max);
            }

            staged.Position = 0;
            try
            {
                GridCapability capability = await service.Node.Storage.PutAsync(staged, new GridPutOptions { K = k, N = n }, ct);
                string? kept = CleanName(name);
                if (kept is not null)
                {
                    service.StorageNames.Set(capability.ToString(), kept);
                }

                GridStoredFile? stored = service.Node.Storage.List().LastOrDefault(f => f.Capability == capability.ToString());
                return TypedResults.Created((string?)null, stored is null
                    ? new StoredFileDto(capability.ToString(), capability.ToVerify().ToString(), kept, capability.Size, k, n, 0, 0, DateTimeOffset.UtcNow)
                    : StoredFileDto.Of(stored, kept));
            }
            catch (ArgumentException e)
            {
                return Problems.BadRequest("cannot store", DisplayText.Sanitize(e.Message, 500));
            }
            catch (IOException e)
            {
                return NotStored("not stored", e.Message);
            }
        }
    }

    private static async Task<IResult> GetAsync(CapabilityRequest request, HttpContext context, NodeService service, CancellationToken ct)
    {
        if (Parse(request.Capability, out GridCapability? capability) is { } bad)
        {
            return bad;
        }

        if (!capability!.CanRead)
        {
            return Problems.BadRequest("not a read capability", "a verify capability can check a file but not read it: give the read capability (URI:PEERNET-CHK:...)");
        }

        HttpResponse response = context.Response;
        response.ContentType = "application/octet-stream";
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = service.StorageNames.NameOf(capability.ToString()) ?? "file" }.ToString();
        response.Headers.CacheControl = "no-store";
        try
        {
            await service.Node.Storage.GetAsync(capability, response.Body, ct);
            return TypedResults.Empty;
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            if (!response.HasStarted)
            {
                response.Headers.ContentDisposition = default;
                response.Headers.CacheControl = default;
                return NotStored("not retrievable", e.Message);
            }

            context.Abort(); // the body is cut short: the client sees a truncated download, never a wrong one
            return TypedResults.Empty;
        }
    }

    private static async Task<Results<Ok<HealthDto>, ProblemHttpResult>> CheckAsync(CheckRequest request, NodeService service, CancellationToken ct)
    {
        if (Parse(request.Capability, out GridCapability? capability) is { } bad)
        {
            return bad;
        }

        try
        {
            GridHealth health = await service.Node.Storage.CheckAsync(capability!, request.Repair, ct);
            return TypedResults.Ok(new HealthDto(health.K, health.N, health.HealthyShares, health.RepairedShares, health.FailedProviders, health.Recoverable, health.Healthy));
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            return NotStored("check failed", e.Message);
        }
    }

    /// <summary>The capability, or the 400 saying why it is not one.</summary>
    private static ProblemHttpResult? Parse(string? text, out GridCapability? capability)
    {
        capability = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return Problems.BadRequest("capability needed", "give the file's capability: {\"capability\": \"URI:PEERNET-CHK:...\"}");
        }

        return GridCapability.TryParse(text.Trim(), out capability, out string? error)
            ? null
            : Problems.BadRequest("not a storage capability", DisplayText.Sanitize(error, 300));
    }

    /// <summary>Parses <c>K-of-N</c> (1 ≤ K ≤ N ≤ 256).</summary>
    public static bool TryParseShares(string text, out int k, out int n)
    {
        string[] parts = text.Split("-of-");
        n = 0;
        k = 0;
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out k)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out n)
            && k >= 1 && n >= k && n <= 256;
    }

    private static ProblemHttpResult TooLarge(long max) =>
        TypedResults.Problem($"this daemon stores files of at most {max} bytes ({ByteSize.Format(max)}, Storage:MaxUpload)", statusCode: StatusCodes.Status413PayloadTooLarge, title: "file over the limit");

    private static ProblemHttpResult NotStored(string title, string detail) =>
        TypedResults.Problem(DisplayText.Sanitize(detail, 500), statusCode: StatusCodes.Status502BadGateway, title: title);

    private static string? CleanName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        string file = Path.GetFileName(name.Replace('\\', '/').Trim());
        return file.Length == 0 ? null : DisplayText.Sanitize(file, StorageNames.MaxNameLength);
    }

    /// <summary>Copies the first file part of a multipart body into <paramref name="into"/>; returns its file name, or null if there is none.</summary>
    private static async Task<string?> ReadMultipartFileAsync(HttpRequest request, Stream into, long max, CancellationToken ct)
    {
        string? boundary = MediaTypeHeaderValue.TryParse(request.ContentType, out MediaTypeHeaderValue? type)
            ? HeaderUtilities.RemoveQuotes(type.Boundary).Value
            : null;
        if (string.IsNullOrEmpty(boundary) || boundary.Length > 200)
        {
            return null;
        }

        var reader = new MultipartReader(boundary, request.Body) { HeadersLengthLimit = 8 * 1024 };
        while (await reader.ReadNextSectionAsync(ct) is { } section)
        {
            if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out ContentDispositionHeaderValue? disposition)
                && disposition.IsFileDisposition())
            {
                await CopyLimitedAsync(section.Body, into, max, ct);
                string name = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "";
                return name.Length > 0 ? name : "file";
            }
        }

        return null;
    }

    private static async Task CopyLimitedAsync(Stream from, Stream into, long max, CancellationToken ct)
    {
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await from.ReadAsync(buffer, ct)) > 0)
        {
            total += read;
            if (total > max)
            {
                throw new UploadTooLargeException();
            }

            await into.WriteAsync(buffer.AsMemory(0, read), ct);
        }
    }

    private sealed class UploadTooLargeException : Exception;
}

/// <summary>The space this node lends, and what it put.</summary>
/// <param name="QuotaBytes">The bytes it lends at most (<c>Storage:Share</c>); 0 when it lends none.</param>
/// <param name="LentBytes">The bytes of other peers' shares it holds or is receiving.</param>
/// <param name="SharesHeld">How many shares of other peers it holds.</param>
/// <param name="Files">How many files it put.</param>
/// <param name="MaxUploadBytes">The largest file the API takes (<c>Storage:MaxUpload</c>).</param>
/// <param name="BadProviders">The providers it stopped using (wrong bytes, stalls, failed audits), by peer ID.</param>
internal sealed record StorageDto(long QuotaBytes, long LentBytes, int SharesHeld, int Files, long MaxUploadBytes, IReadOnlyList<string> BadProviders);

/// <summary>A file this node put. <c>Capability</c> reads it (keep it secret); <c>VerifyCapability</c> only checks it.</summary>
internal sealed record StoredFileDto(string Capability, string VerifyCapability, string? Name, long Size, int K, int N, int HealthyShares, int Providers, DateTimeOffset StoredAt)
{
    public static StoredFileDto Of(GridStoredFile f, string? name)
    {
        string verify = GridCapability.TryParse(f.Capability, out GridCapability? c, out _) ? c!.ToVerify().ToString() : "";
        return new(f.Capability, verify, name, f.Size, f.K, f.N, f.HealthyShares, f.Shares.Values.Distinct(StringComparer.Ordinal).Count(), f.StoredAt);
    }
}

/// <summary>A capability given in a body.</summary>
internal sealed record CapabilityRequest(string? Capability);

/// <summary>A check: the capability (read or verify), and whether to repair.</summary>
internal sealed record CheckRequest(string? Capability, bool Repair = false);

/// <summary>What a check found: the healthy share numbers (repaired ones included), those repaired, the providers that failed.</summary>
internal sealed record HealthDto(int K, int N, IReadOnlyList<int> HealthyShares, IReadOnlyList<int> RepairedShares, IReadOnlyList<string> FailedProviders, bool Recoverable, bool Healthy);
