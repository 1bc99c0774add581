using System.Globalization;
using System.Net;
using System.Text;

namespace Commissable.Backup.Postgres.Processes;

/// <summary>
/// The one place that builds what PostgreSQL's programs (pg_dump, psql, pg_restore,
/// pg_basebackup) are told to connect to. A database is never passed as a bare argument: those
/// programs read a <c>-d</c> value holding <c>=</c> or starting with <c>postgresql://</c> as a
/// connection string, so a database named <c>host=elsewhere dbname=x</c> would send the password to
/// another server. Every value is quoted per libpq's rules, so it is only ever the value it names.
/// Passwords never go here (they would be on the command line): use PGPASSWORD.
/// </summary>
public static class LibpqConnection
{
    /// <summary>
    /// A connection string to <paramref name="database"/> on <paramref name="host"/>:<paramref name="port"/>
    /// as <paramref name="user"/>. An IP address is also pinned as <c>hostaddr</c>, so no name lookup
    /// or service file can redirect it.
    /// </summary>
    public static string Build(string host, int port, string user, string database)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentException.ThrowIfNullOrEmpty(database);
        var text = new StringBuilder()
            .Append("host=").Append(Quote(host));
        if (IPAddress.TryParse(host, out _))
        {
            text.Append(" hostaddr=").Append(Quote(host));
        }
        return text
            .Append(" port=").Append(Quote(port.ToString(CultureInfo.InvariantCulture)))
            .Append(" user=").Append(Quote(user))
            .Append(" dbname=").Append(Quote(database))
            .ToString();
    }

    /// <summary>A libpq keyword value: single-quoted, with <c>\</c> and <c>'</c> escaped by a backslash.</summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A connection value cannot hold a NUL character.", nameof(value));
        }
        return "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";
    }
}
