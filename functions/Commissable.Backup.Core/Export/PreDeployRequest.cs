using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Naming;

namespace Commissable.Backup.Core.Export;

/// <summary>What a deploy pipeline asks for: a logical export of one database before a change.</summary>
public sealed record PreDeployRequest
{
    public string? Instance { get; init; }
    /// <summary>The database to export (Cloud SQL exports one PostgreSQL database per SQL file).</summary>
    public string? Database { get; init; }
    /// <summary>Accepted as an alternative to <see cref="Database"/>, with exactly one element.</summary>
    public IReadOnlyList<string>? Databases { get; init; }
    public string? Change { get; init; }
    public string? CommitSha { get; init; }
    public string? PipelineRunId { get; init; }
    public string? RequestedBy { get; init; }

    /// <summary>The one database named, whichever field named it.</summary>
    public string? TheDatabase => Database ?? (Databases is [var only] ? only : null);

    /// <summary>Every problem with the request, each saying what is accepted; empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Instance))
        {
            problems.Add("'instance' is required: the Cloud SQL instance to export.");
        }
        else if (CloudNames.InstanceProblem(Instance) is { } instance)
        {
            problems.Add(instance);
        }
        if (Database is not null && Databases is not null)
        {
            problems.Add("Give 'database' or 'databases', not both.");
        }
        else if (Databases is { Count: not 1 })
        {
            problems.Add("'databases' must hold exactly one database: Cloud SQL exports one PostgreSQL database per SQL file.");
        }
        else if (string.IsNullOrWhiteSpace(TheDatabase))
        {
            problems.Add("'database' is required: the database to export.");
        }
        else if (CloudNames.DatabaseProblem(TheDatabase) is { } database)
        {
            problems.Add(database);
        }
        if (ChangeSlug.Problem(Change) is { } change)
        {
            problems.Add(change);
        }
        foreach (var (field, value) in new[] { ("commitSha", CommitSha), ("pipelineRunId", PipelineRunId), ("requestedBy", RequestedBy) })
        {
            if (value is { Length: > 200 } || (value?.Any(char.IsControl) ?? false))
            {
                problems.Add($"'{field}' must be at most 200 characters without control characters.");
            }
        }
        return problems;
    }
}
