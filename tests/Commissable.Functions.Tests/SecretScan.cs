using System.Collections.Concurrent;

namespace Commissable.Functions.Tests;

/// <summary>
/// Everything the functions said during a fixture's life (log lines and response bodies),
/// checked at the end for the secrets the fixture knows and for shapes of secrets in general.
/// </summary>
public sealed class SecretScan
{
    private readonly ConcurrentQueue<string> _responses = new();

    /// <summary>A handler that keeps every response body, to put in front of the test server's.</summary>
    public DelegatingHandler Recorder(HttpMessageHandler inner) => new RecordingHandler(inner, _responses);

    /// <summary>Throws naming where a secret appeared; the secret itself is never printed.</summary>
    public void AssertClean(IEnumerable<string> logLines, IReadOnlyCollection<string> secrets)
    {
        var said = logLines.Select(l => ("log line", l)).Concat(_responses.Select(r => ("response", r))).ToList();
        Assert.NotEmpty(said);
        foreach (var (where, text) in said)
        {
            foreach (var secret in secrets.Where(s => s.Length >= 6))
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"a {where} contains a known secret (length {secret.Length}): {Shorten(text.Replace(secret, "[SECRET]", StringComparison.Ordinal))}");
            }
            foreach (var shape in new[] { "Password=", "PGPASSWORD=", "postgres://", "postgresql://", "Bearer " })
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
