using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Commissable.Backup.Core.Backups.Content;

/// <summary>Rows and the running digest (sum mod 2^128 of each row's XxHash128) of a set of rows.</summary>
/// <remarks>A struct, kept inline in the per-tenant dictionaries: one entry per (table, tenant) and no object each.</remarks>
internal struct RowSum
{
    public long Rows;
    public UInt128 Sum;

    public void Add(UInt128 hash)
    {
        Rows++;
        Sum = unchecked(Sum + hash);
    }

    public void Add(long rows, UInt128 sum)
    {
        Rows += rows;
        Sum = unchecked(Sum + sum);
    }

    /// <summary>32 lowercase hex digits, most significant first.</summary>
    public static string Hex(UInt128 sum)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, sum);
        return Convert.ToHexStringLower(bytes);
    }
}

/// <summary>What one table of the dump holds: its own COPY rows and, where it has the tenant column, per tenant.</summary>
internal sealed class TableAccumulator(string name)
{
    public string Name { get; } = name;
    /// <summary>The table's own COPY rows (a field, so that adding to it adds in place).</summary>
    public RowSum Own;
    public List<string>? Columns { get; set; }
    public bool Copied { get; set; }
    public bool DeclaredPartitioned { get; set; }

    /// <summary>Per tenant, keyed by the field's bytes as the dump prints them (escaped); null without the tenant column.</summary>
    public Dictionary<byte[], RowSum>? Tenants { get; private set; }

    private Dictionary<byte[], RowSum>.AlternateLookup<ReadOnlySpan<byte>> _tenantLookup;

    public void TrackTenants()
    {
        if (Tenants is not null) return;
        Tenants = new Dictionary<byte[], RowSum>(ByteKeyComparer.Instance);
        _tenantLookup = Tenants.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>Frees the per-tenant sums once they have been read out (the table keeps that it had the column).</summary>
    public void ReleaseTenants()
    {
        Tenants = [];
        _tenantLookup = default;
    }

    public void AddTenantRow(ReadOnlySpan<byte> tenant, UInt128 hash) =>
        CollectionsMarshal.GetValueRefOrAddDefault(_tenantLookup, tenant, out _).Add(hash);
}

/// <summary>Compares tenant keys by bytes, and looks them up by a span of the reading buffer without copying it.</summary>
internal sealed class ByteKeyComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly ByteKeyComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj) => GetHashCode(obj.AsSpan());

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<byte> alternate) => unchecked((int)XxHash3.HashToUInt64(alternate));

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}

/// <summary>The rows of <c>public._prisma_migrations</c>, read by the rules of Prisma's migration table.</summary>
internal sealed class MigrationAccumulator
{
    public const string TableName = "public._prisma_migrations";

    private readonly HashSet<string> _applied = new(StringComparer.Ordinal);
    private string? _head;
    private int _unfinished;
    private int _rolledBack;

    public void AddRow(ReadOnlySpan<byte> name, ReadOnlySpan<byte> finishedAt, ReadOnlySpan<byte> rolledBackAt)
    {
        var finished = !CopyText.IsNull(finishedAt);
        var rolledBack = !CopyText.IsNull(rolledBackAt);
        if (rolledBack)
        {
            _rolledBack++;
            return;
        }
        if (!finished)
        {
            _unfinished++;
            return;
        }
        var migration = CopyText.Unescape(name);
        _applied.Add(migration);
        if (_head is null || string.CompareOrdinal(migration, _head) > 0) _head = migration;
    }

    public MigrationState State => new(_head, _applied.Count, _unfinished, _rolledBack);
}

/// <summary>
/// One COPY block being read: the table it fills and the fields each row is looked into (the
/// tenant column; for <c>_prisma_migrations</c>, the name and the two times).
/// </summary>
internal sealed class CopyBlock
{
    public CopyBlock(TableAccumulator table, int tenantField, MigrationAccumulator? migrations, int nameField, int finishedField, int rolledBackField)
    {
        Table = table;
        TenantField = tenantField;
        Migrations = migrations;
        NameField = nameField;
        FinishedField = finishedField;
        RolledBackField = rolledBackField;
        var wanted = new SortedSet<int>();
        if (tenantField >= 0) wanted.Add(tenantField);
        if (migrations is not null)
        {
            wanted.Add(nameField);
            wanted.Add(finishedField);
            wanted.Add(rolledBackField);
        }
        WantedFields = [.. wanted];
    }

    public TableAccumulator Table { get; }
    public int TenantField { get; }
    public MigrationAccumulator? Migrations { get; }
    public int NameField { get; }
    public int FinishedField { get; }
    public int RolledBackField { get; }

    /// <summary>Every field index a row is looked into, ascending.</summary>
    public int[] WantedFields { get; }
}

/// <summary>
/// A COPY row longer than the reading buffer, fed in pieces: hashed incrementally, and the few
/// fields the reader needs kept (each at most <see cref="MaxFieldBytes"/>).
/// </summary>
internal sealed class LongRow
{
    public const int MaxFieldBytes = 1 << 20;

    private readonly XxHash128 _hash = new();
    private readonly Dictionary<int, MemoryStream> _fields = [];
    private int[] _wanted = [];
    private int _field;

    public bool Active { get; private set; }

    public void Start(int[] wantedFields)
    {
        _hash.Reset();
        _fields.Clear();
        _wanted = wantedFields;
        _field = 0;
        Active = true;
    }

    public void Append(ReadOnlySpan<byte> piece, string table)
    {
        _hash.Append(piece);
        if (_wanted.Length == 0) return;
        while (true)
        {
            var tab = piece.IndexOf(CopyText.Tab);
            var segment = tab < 0 ? piece : piece[..tab];
            if (Array.IndexOf(_wanted, _field) >= 0)
            {
                if (!_fields.TryGetValue(_field, out var stream))
                {
                    _fields[_field] = stream = new MemoryStream();
                }
                if (stream.Length + segment.Length > MaxFieldBytes)
                {
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                        $"A row of {table} has a value longer than {MaxFieldBytes} bytes in column {_field + 1}, which the reader must look into (the tenant column or a Prisma migration field)."));
                }
                stream.Write(segment);
            }
            if (tab < 0) return;
            _field++;
            piece = piece[(tab + 1)..];
        }
    }

    public UInt128 Finish()
    {
        Active = false;
        return _hash.GetCurrentHashAsUInt128();
    }

    /// <summary>The field kept from the finished row; false when the row had fewer fields.</summary>
    public bool TryField(int index, out ReadOnlySpan<byte> field)
    {
        if (index > _field)
        {
            field = default;
            return false;
        }
        field = _fields.TryGetValue(index, out var stream) ? stream.GetBuffer().AsSpan(0, (int)stream.Length) : [];
        return true;
    }
}
