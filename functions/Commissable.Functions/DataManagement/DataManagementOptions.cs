using Commissable.Backup.Core.Naming;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;

namespace Commissable.Functions.DataManagement;

/// <summary>
/// How <c>data-management</c> checks the acting user's token: the issuer and audience it must
/// name, and the JWKS file of the CRM backend's public keys (read again on every request, so a
/// rotated file takes effect without a restart).
/// </summary>
internal sealed record DataManagementOptions(string Issuer, string Audience, string JwksFile)
{
    public const string IssuerVariable = DataManagementVariables.Issuer;
    public const string AudienceVariable = DataManagementVariables.Audience;
    public const string JwksFileVariable = DataManagementVariables.JwksFile;
    private static readonly string[] Variables = [IssuerVariable, AudienceVariable, JwksFileVariable];

    /// <summary>
    /// The options, or null when none of the three variables is set (the function then answers
    /// 503 to every request, unless it is the one function this host serves: then it refuses to
    /// start). One or two of them set, or any invalid, is a start-up error naming each.
    /// </summary>
    /// <exception cref="FunctionStartupException">Partly set, invalid, or unset for a host whose FUNCTION_TARGET is data-management.</exception>
    public static DataManagementOptions? Read(IFunctionEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var values = Variables.ToDictionary(v => v, v => environment.GetVariable(v), StringComparer.Ordinal);
        if (values.Values.All(string.IsNullOrWhiteSpace))
        {
            var servesOnlyThis = environment.GetVariable("FUNCTION_TARGET") == FunctionNames.DataManagement
                && !string.Equals(environment.GetVariable("LOCAL_MODE"), "true", StringComparison.OrdinalIgnoreCase);
            if (servesOnlyThis)
            {
                throw new FunctionStartupException(
                    $"{string.Join(", ", Variables)} must be set: data-management cannot check who is asking without them.", Variables);
            }
            return null;
        }
        var missing = values.Where(v => string.IsNullOrWhiteSpace(v.Value)).Select(v => v.Key).ToList();
        if (missing.Count > 0)
        {
            throw new FunctionStartupException(
                $"{string.Join(" and ", missing)} must be set too: data-management needs all of {string.Join(", ", Variables)} (or none, and it answers 503).", missing);
        }
        var issuer = values[IssuerVariable]!;
        var audience = values[AudienceVariable]!;
        var jwks = values[JwksFileVariable]!;
        if (issuer.Length > 256 || issuer.Any(char.IsControl))
        {
            throw new FunctionStartupException($"{IssuerVariable} must be at most 256 printable characters; got '{EnvironmentReader.Shown(issuer)}'.", [IssuerVariable]);
        }
        if (!Uri.TryCreate(audience, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || audience.Any(char.IsControl))
        {
            throw new FunctionStartupException(
                $"{AudienceVariable} must be the function's URL (https://...), the aud the CRM backend puts in its tokens; got '{EnvironmentReader.Shown(audience)}'.", [AudienceVariable]);
        }
        try
        {
            _ = JwksKeys.Load(jwks);
        }
        catch (JwksException e)
        {
            throw new FunctionStartupException($"{JwksFileVariable} ('{CloudNames.Printable(jwks)}'): {e.Message}", [JwksFileVariable]);
        }
        return new DataManagementOptions(issuer, audience, jwks);
    }
}
