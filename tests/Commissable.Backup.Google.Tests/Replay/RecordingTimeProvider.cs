using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Commissable.Backup.Google.Tests.Replay;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that records every timer the code under test starts (each
/// <c>Task.Delay</c>), so a test can assert the waits and advance time exactly by them.
/// </summary>
internal sealed class RecordingTimeProvider : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();
    private readonly List<TimeSpan> _delays = [];
    private readonly Lock _gate = new();

    public RecordingTimeProvider()
        : base(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero))
    {
    }

    public IReadOnlyList<TimeSpan> Delays
    {
        get
        {
            lock (_gate)
            {
                return [.. _delays];
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            lock (_gate)
            {
                _delays.Add(dueTime);
            }

            _created.Writer.TryWrite(dueTime);
        }

        return timer;
    }

    /// <summary>
    /// Runs <paramref name="task"/> to completion, advancing fake time by each wait it starts.
    /// A real-time guard fails the test instead of hanging if the code waits on something else.
    /// </summary>
    public async Task<T> DriveAsync<T>(Task<T> task)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!task.IsCompleted)
        {
            using var round = CancellationTokenSource.CreateLinkedTokenSource(guard.Token);
            var next = _created.Reader.ReadAsync(round.Token).AsTask();
            if (await Task.WhenAny(task, next) == task)
            {
                await round.CancelAsync();
                break;
            }

            Advance(await next);
        }

        return await task;
    }
}
