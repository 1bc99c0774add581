namespace Commissable.Backup.Postgres.Dumps;

/// <summary>
/// A dump's text could not be read whole: the object is damaged or incomplete, a program that
/// turns it into text failed, or pg_dump could not read the database. The message names what was
/// read and ends with the program's last error output; it never holds row data or a secret.
/// </summary>
public sealed class DumpStreamException(string message, Exception? innerException = null) : IOException(message, innerException);
