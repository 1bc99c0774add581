using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Commissable.Backup.Core.Storage;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Cloud Storage reports.
/// <c>System.IO.Hashing.Crc32</c> is CRC-32/ISO-HDLC, a different polynomial, so it cannot stand in.
/// Uses the CPU's CRC32C instruction (SSE4.2, ARMv8) when present, a lookup table otherwise.
/// The one home of the checksum: the local store computes it for its objects, a dump written on
/// an operator's machine for its manifest, so both match what Cloud Storage reports.
/// </summary>
public struct Crc32C
{
    private static readonly uint[] Table = BuildTable();

    // The complement of the running register: the default (0) is the algorithm's initial 0xFFFFFFFF,
    // and the complement of the final register is the checksum.
    private uint _state;

    /// <summary>The checksum of everything appended so far.</summary>
    public readonly uint Value => _state;

    public void Append(ReadOnlySpan<byte> data) => _state = ~Update(~_state, data);

    /// <summary>Cloud Storage's representation: base64 of the four big-endian bytes.</summary>
    public readonly string ToBase64()
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, Value);
        return Convert.ToBase64String(bytes);
    }

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = new Crc32C();
        crc.Append(data);
        return crc.Value;
    }

    private static uint Update(uint register, ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported && BitConverter.IsLittleEndian)
        {
            var words = MemoryMarshal.Cast<byte, ulong>(data);
            ulong wide = register;
            foreach (var word in words)
            {
                wide = Sse42.X64.Crc32(wide, word);
            }

            register = (uint)wide;
            foreach (var b in data[(words.Length * sizeof(ulong))..])
            {
                register = Sse42.Crc32(register, b);
            }

            return register;
        }

        if (Crc32.Arm64.IsSupported && BitConverter.IsLittleEndian)
        {
            var words = MemoryMarshal.Cast<byte, ulong>(data);
            foreach (var word in words)
            {
                register = Crc32.Arm64.ComputeCrc32C(register, word);
            }

            foreach (var b in data[(words.Length * sizeof(ulong))..])
            {
                register = Crc32.ComputeCrc32C(register, b);
            }

            return register;
        }

        return UpdateWithTable(register, data);
    }

    /// <summary>The portable path (the register, not its complement); tests compare it with the hardware path.</summary>
    public static uint UpdateWithTable(uint register, ReadOnlySpan<byte> data)
    {
        var table = Table;
        foreach (var b in data)
        {
            register = table[(register ^ b) & 0xFF] ^ (register >> 8);
        }

        return register;
    }

    private static uint[] BuildTable()
    {
        const uint Polynomial = 0x82F63B78;
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var entry = i;
            for (var bit = 0; bit < 8; bit++)
            {
                entry = (entry & 1) != 0 ? (entry >> 1) ^ Polynomial : entry >> 1;
            }

            table[i] = entry;
        }

        return table;
    }
}
