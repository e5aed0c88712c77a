using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace PeerNet.Daemon.Api;

/// <summary>RFC 7807 problem details for every refusal, each with a title a person can act on.</summary>
internal static class Problems
{
    public static ProblemHttpResult BadRequest(string title, string? detail = null) => TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: title);

    public static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem($"no torrent has the id '{DisplayText.Sanitize(id, 100)}'", statusCode: StatusCodes.Status404NotFound, title: "unknown torrent");

    public static ProblemHttpResult Conflict(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "already there");

    /// <summary>Writes a problem from middleware (outside an endpoint).</summary>
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        IProblemDetailsService problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}

/// <summary>
/// Exceptions as problem details: a body over the limit (413) or unreadable (400) as Kestrel reports it; anything
/// else a 500 that says no more than that (the log has the rest).
/// </summary>
internal sealed class ProblemExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        (int status, string title, string detail) = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                (StatusCodes.Status413PayloadTooLarge, "body over the limit", "the request body is larger than this daemon accepts (Api:MaxRequestBodyBytes)"),
            BadHttpRequestException bad => (bad.StatusCode, "bad request", DisplayText.Sanitize(bad.Message, 500)),
            _ => (StatusCodes.Status500InternalServerError, "internal error", "the daemon failed to handle the request; its log says why"),
        };
        await Problems.WriteAsync(httpContext, status, title, detail);
        return true;
    }
}
