using System.Text.Json.Nodes;
using Commissable.Backup.Core.CloudSql;

namespace Commissable.Backup.Google.CloudSql;

// The API called by path, for the Workflows connector: the same transport, project and errors as
// the typed methods, so there is one Cloud SQL client and one operation poller.
public sealed partial class CloudSqlAdminClient
{
    /// <inheritdoc />
    public Task<JsonNode> SendJsonAsync(HttpMethod method, string pathInProject, JsonNode? body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(method);
        CheckPathInProject(pathInProject);
        // The transport serialises the body, as it does for the typed methods.
        return SendAsync<JsonNode>(method, _projectPath + "/" + pathInProject, body, cancellationToken);
    }

    /// <summary>
    /// A path stays under the project: URI resolution would fold "." and ".." segments (escaped or
    /// not) into another resource, and an escaped '/' would make one segment two.
    /// </summary>
    private static void CheckPathInProject(string pathInProject)
    {
        ArgumentException.ThrowIfNullOrEmpty(pathInProject);
        var path = pathInProject.Split('?', 2)[0];
        foreach (var segment in path.Split('/'))
        {
            var plain = Uri.UnescapeDataString(segment);
            if (plain.Length == 0 || plain is "." or ".." || plain.Contains('/', StringComparison.Ordinal))
            {
                throw new ArgumentException($"'{pathInProject}' is not a path of a method under the project: empty, '.', '..' and escaped '/' segments are refused.", nameof(pathInProject));
            }
        }
    }
}
