using Commissable.Backup.Core.Naming;
using Microsoft.AspNetCore.Http.Features;

namespace Commissable.LocalCloud.Api;

/// <summary>
/// Checks what a request names before it is routed and before any name is used. Kestrel removes
/// dot segments from the path before routing, so <c>DELETE .../instances/X/databases/..</c> (or
/// <c>%2e%2e</c>) would arrive as <c>DELETE .../instances/X</c> and delete the instance: the raw
/// request target is checked here, and a path with a dot segment, an empty segment or an encoded
/// '/', '\' or '.' is refused, whatever route it would have reached. After routing, every name in
/// the route and in the query is checked against the rule Google applies to it.
/// </summary>
internal static class RequestGuard
{
    /// <summary>Runs before routing: the raw target as the client sent it.</summary>
    public static Task RawPathMiddleware(HttpContext context, RequestDelegate next)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        var problem = RawPathProblem(raw);
        return problem is null ? next(context) : ErrorResponses.WriteAsync(context, ApiException.BadRequest(problem));
    }

    /// <summary>Null when the raw request target has only plain segments, else what is wrong with it.</summary>
    internal static string? RawPathProblem(string rawTarget)
    {
        var path = rawTarget.Split('?', 2)[0];
        if (!path.StartsWith('/'))
        {
            // Absolute form (http://host/path): the path starts after the authority.
            var scheme = path.IndexOf("://", StringComparison.Ordinal);
            var start = scheme < 0 ? -1 : path.IndexOf('/', scheme + 3);
            path = start < 0 ? "/" : path[start..];
        }
        var segments = path.Split('/');
        for (var i = 1; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (segment.Length == 0)
            {
                // Routing would read ".../instances/X/" (a database name left out) as ".../instances/X".
                if (path == "/") break;
                return "The request path has an empty segment ('//' or a trailing '/'); every part of a resource name must be given.";
            }
            var decoded = Uri.UnescapeDataString(segment);
            if (decoded is "." or "..")
            {
                return $"The request path has a '{decoded}' segment; '.' and '..' are not resource names.";
            }
            if (segment.Contains('\\', StringComparison.Ordinal)
                || segment.Contains("%2f", StringComparison.OrdinalIgnoreCase)
                || segment.Contains("%5c", StringComparison.OrdinalIgnoreCase)
                || segment.Contains("%2e", StringComparison.OrdinalIgnoreCase))
            {
                return $"The request path segment '{CloudNames.Printable(segment)}' encodes '/', '\\' or '.'; send resource names unencoded.";
            }
        }
        return null;
    }

    /// <summary>Runs after routing: each route value and query name against its rule.</summary>
    public static Task NamesMiddleware(HttpContext context, RequestDelegate next)
    {
        var problem = NamesProblem(context);
        return problem is null ? next(context) : ErrorResponses.WriteAsync(context, ApiException.BadRequest(problem));
    }

    private static string? NamesProblem(HttpContext context)
    {
        var route = context.Request.RouteValues;
        foreach (var (key, value) in route)
        {
            var text = value as string;
            var problem = key switch
            {
                "project" => CloudNames.ProjectProblem(text, "project"),
                "instance" => CloudNames.InstanceProblem(text, "instance"),
                "database" => CloudNames.DatabaseProblem(text, "database"),
                "name" => CloudNames.UserProblem(text, "name"),
                _ => null,
            };
            if (problem is not null) return problem;
        }
        var query = context.Request.Query;
        foreach (var key in query.Keys)
        {
            if (query[key].Count > 1)
            {
                return $"The query parameter '{CloudNames.Printable(key)}' is given more than once; give it once.";
            }
        }
        if (query.TryGetValue("instance", out var instance) && instance.ToString().Length > 0)
        {
            return CloudNames.InstanceProblem(instance.ToString(), "instance");
        }
        if (query.TryGetValue("name", out var name))
        {
            return CloudNames.UserProblem(name.ToString(), "name");
        }
        return null;
    }
}
