using System.Collections.Concurrent;

namespace Commissable.Testing;

/// <summary>
/// Everything the software said during a fixture's life (log lines, response bodies, command
/// output), checked at the end for the secrets the fixture knows and for shapes of secrets in general.
/// </summary>
public sealed class SecretScan
{
    private readonly ConcurrentQueue<string> _responses = new();

    /// <summary>A handler that keeps every response body, to put in front of the test server's.</summary>
    public DelegatingHandler Recorder(HttpMessageHandler inner) => new RecordingHandler(inner, _responses);

    /// <summary>What a credential looks like wherever it appears: a connection string's password, a bearer token, a database URL.</summary>
    public static IReadOnlyList<string> CredentialShapes { get; } = ["Password=", "PGPASSWORD=", "postgres://", "postgresql://", "Bearer "];

    /// <summary>Throws naming where a secret appeared; the secret itself is never printed.</summary>
    public void AssertClean(IEnumerable<string> logLines, IReadOnlyCollection<string> secrets) =>
        AssertClean(logLines.Select(l => ("log line", l)).Concat(_responses.Select(r => ("response", r))), secrets, CredentialShapes);

    /// <summary>
    /// Throws naming where a known secret, or text of one of <paramref name="shapes"/> (unless
    /// marked "[redacted]"), appeared. Nothing said at all fails too: a scan of nothing proves nothing.
    /// </summary>
    public static void AssertClean(IEnumerable<(string Where, string Text)> said, IReadOnlyCollection<string> secrets, IReadOnlyList<string> shapes)
    {
        ArgumentNullException.ThrowIfNull(said);
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(shapes);
        var all = said.ToList();
        Assert.NotEmpty(all);
        foreach (var (where, text) in all)
        {
            foreach (var secret in secrets.Where(s => s.Length >= 6))
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"a {where} contains a known secret (length {secret.Length}): {Shorten(text.Replace(secret, "[SECRET]", StringComparison.Ordinal))}");
            }
            foreach (var shape in shapes)
            {
                Assert.False(text.Contains(shape, StringComparison.OrdinalIgnoreCase) && !text.Contains("[redacted]", StringComparison.Ordinal),
                    $"a {where} contains '{shape}': {Shorten(text)}");
            }
        }
    }

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "..." : text;

    private sealed class RecordingHandler(HttpMessageHandler inner, ConcurrentQueue<string> responses) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            responses.Enqueue(body);
            var copy = new StringContent(body);
            copy.Headers.Clear();
            foreach (var header in response.Content.Headers) copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
            response.Content = copy;
            return response;
        }
    }
}
