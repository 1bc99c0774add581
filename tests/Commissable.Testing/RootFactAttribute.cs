using Commissable.Backup.Postgres.Clusters;

namespace Commissable.Testing;

/// <summary>
/// A fact that needs the tests to run as root, so that the local cloud runs its clusters as
/// another account (<see cref="PostgresCluster.DefaultRunAs"/>): skipped, visibly and with the
/// reason, otherwise.
/// </summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (PostgresCluster.DefaultRunAs() is null)
        {
            Skip = "needs root: only then do the clusters run as another account, which a directory of this one can shut out.";
        }
    }
}
