namespace Commissable.Backup.Core.Databases;

/// <summary>
/// A database could not be reached or logged in to (no address, connection refused, a wrong
/// password, the database gone, the server shutting down). The message is the reason as the
/// server or the driver gave it; it names no password, but callers still redact it before it
/// leaves the process.
/// </summary>
public sealed class DatabaseUnreachableException(string message, Exception innerException) : Exception(message, innerException);
