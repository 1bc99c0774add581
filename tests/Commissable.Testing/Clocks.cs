namespace Commissable.Testing;

/// <summary>
/// A clock whose time stands still at <paramref name="now"/> while its timers run in real time:
/// code under test reads one instant (names, days and minutes stay the same however long the test
/// takes), and what it waits for with this clock (polling, backoff) still ends, as it would not on
/// a fake clock nobody advances.
/// </summary>
public sealed class StoppedClock(DateTimeOffset now) : TimeProvider
{
    /// <summary>Stopped at the real time of the call.</summary>
    public static StoppedClock AtNow() => new(System.GetUtcNow());

    public override DateTimeOffset GetUtcNow() => now;
}

/// <summary>
/// The real clock moved by a fixed offset: the code under test sees a later time, while its timers
/// (operation polling, backoff) still run in real time, so nothing waits on a clock nobody advances.
/// </summary>
public sealed class ShiftedClock(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
}
