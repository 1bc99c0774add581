namespace Commissable.Backup.Core.Export;

/// <summary>A statement waited longer for a lock, or ran longer, than its <see cref="DatabaseWaitLimits"/> allow; the message says which and why.</summary>
public sealed class DatabaseWaitExceededException(string message, Exception? innerException = null) : Exception(message, innerException);
