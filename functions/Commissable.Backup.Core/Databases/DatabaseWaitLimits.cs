namespace Commissable.Backup.Core.Databases;

/// <summary>How long a statement in a source database may wait for a lock, and run (PostgreSQL's <c>lock_timeout</c> and <c>statement_timeout</c>).</summary>
public sealed record DatabaseWaitLimits(TimeSpan LockTimeout, TimeSpan StatementTimeout);
