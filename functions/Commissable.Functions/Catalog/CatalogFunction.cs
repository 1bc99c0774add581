using System.Globalization;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Naming;
using Commissable.Functions.Hosting;

namespace Commissable.Functions.Catalog;

/// <summary>
/// <c>catalog</c>: GET the complete backups, newest first, for the Data Management screen.
/// Metadata only: never a file's content, a signed URL or a download link (the strategy forbids
/// exposing raw backups to the browser). Filters: <c>?environment=</c>, <c>?instance=</c>,
/// <c>?limit=</c> (default 100, 1 to 1000).
/// </summary>
internal sealed partial class CatalogFunction(BackupCatalog catalog) : IHttpFunction
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    private static readonly string[] Accepted = ["environment", "instance", "limit"];

    public async Task HandleAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            throw new FunctionException(405, "METHOD_NOT_ALLOWED", "GET the catalog, optionally with ?environment=, ?instance= and ?limit=.");
        }
        var query = context.Request.Query;
        foreach (var key in query.Keys)
        {
            if (!Accepted.Contains(key, StringComparer.Ordinal))
            {
                throw FunctionException.BadRequest($"Unknown query parameter '{Printable(key)}'; accepted: environment, instance, limit.");
            }
        }
        var environment = Single(query, "environment", EnvironmentPattern().IsMatch, "an environment name matching [a-z0-9][a-z0-9-]{0,62}");
        var instance = Single(query, "instance", CloudNames.IsInstance,
            "a Cloud SQL instance ID (lowercase letters, digits and '-', starting with a letter and not ending with '-', at most 98 characters)");
        var limit = Limit(query);

        var backups = new List<CatalogBackup>();
        var matching = 0;
        await foreach (var entry in catalog.ListAsync(environment, cancellationToken: context.RequestAborted).ConfigureAwait(false))
        {
            if (instance is not null && entry.Name.Instance != instance) continue;
            matching++;
            if (backups.Count < limit) backups.Add(CatalogBackup.From(entry));
        }
        await context.WriteJsonAsync(new CatalogPage(backups, backups.Count, matching > backups.Count)).ConfigureAwait(false);
    }

    private static string? Single(IQueryCollection query, string key, Func<string, bool> isValid, string accepted)
    {
        if (!query.TryGetValue(key, out var values)) return null;
        if (values.Count != 1 || values[0] is not { } value || !isValid(value))
        {
            throw FunctionException.BadRequest($"?{key}= must be given once, as {accepted}; got '{Printable(values.ToString())}'.");
        }
        return value;
    }

    private static int Limit(IQueryCollection query)
    {
        if (!query.TryGetValue("limit", out var values)) return DefaultLimit;
        if (values.Count != 1 || !int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit is < 1 or > MaxLimit)
        {
            throw FunctionException.BadRequest(string.Create(CultureInfo.InvariantCulture,
                $"?limit= must be a whole number from 1 to {MaxLimit} (default {DefaultLimit}); got '{Printable(values.ToString())}'."));
        }
        return limit;
    }

    private static string Printable(string value) => CloudNames.Printable(value);

    [GeneratedRegex(@"\A[a-z0-9][a-z0-9-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex EnvironmentPattern();
}
