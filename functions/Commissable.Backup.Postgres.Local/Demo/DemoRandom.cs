namespace Commissable.Backup.Postgres.Demo;

/// <summary>
/// A small deterministic generator (SplitMix64). <see cref="System.Random"/> is not used because
/// its sequence for a given seed is not a documented contract across .NET versions, and the demo
/// promises byte-identical data for the same seed.
/// </summary>
internal sealed class DemoRandom
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private ulong _state;

    public DemoRandom(ulong seed)
    {
        _state = seed;
    }

    /// <summary>A stream for one (seed, table, tenant): independent of the order tables are loaded in.</summary>
    public static DemoRandom For(int seed, DemoTable table, int tenant) =>
        new(Hash((ulong)(uint)seed, (ulong)table + 1, (ulong)tenant + 1));

    public ulong NextUInt64()
    {
        _state += Golden;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, maxExclusive); the modulo bias is irrelevant for demo data.</summary>
    public int Next(int maxExclusive) => maxExclusive <= 1 ? 0 : (int)((NextUInt64() >> 1) % (ulong)maxExclusive);

    public int Next(int minInclusive, int maxExclusive) => minInclusive + Next(maxExclusive - minInclusive);

    public long NextInt64(long maxExclusive) => maxExclusive <= 1 ? 0 : (long)((NextUInt64() >> 1) % (ulong)maxExclusive);

    /// <summary>True with the given probability in percent.</summary>
    public bool Chance(int percent) => Next(100) < percent;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>The SplitMix64 finalizer: a bijection on 64-bit values, so distinct inputs stay distinct.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static ulong Hash(ulong a, ulong b, ulong c) => Mix(Mix(Mix(a + Golden) ^ b) + c);
}
