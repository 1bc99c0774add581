using System.Text;
using Commissable.Backup.Core.Storage;

namespace Commissable.Backup.Core.Tests.Storage;

public sealed class Crc32CTests
{
    [Fact]
    public void The_check_value_of_123456789_is_E3069283()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0xE3069283u, ~Crc32C.UpdateWithTable(uint.MaxValue, "123456789"u8));
    }

    [Fact]
    public void It_is_reported_as_Cloud_Storage_does_base64_of_big_endian_bytes()
    {
        var crc = new Crc32C();
        crc.Append("123456789"u8);
        Assert.Equal("4waSgw==", crc.ToBase64());
        Assert.Equal("AAAAAA==", new Crc32C().ToBase64());
    }

    [Fact]
    public void The_hardware_and_table_paths_agree_on_every_length_and_split()
    {
        var data = new byte[1037];
        new Random(7).NextBytes(data);
        for (var length = 0; length <= data.Length; length += 13)
        {
            var slice = data.AsSpan(0, length);
            var expected = ~Crc32C.UpdateWithTable(uint.MaxValue, slice);
            Assert.Equal(expected, Crc32C.Compute(slice));

            // Appending in pieces (unaligned ones too) gives the checksum of the whole.
            var pieces = new Crc32C();
            pieces.Append(slice[..(length / 3)]);
            pieces.Append(slice[(length / 3)..]);
            Assert.Equal(expected, pieces.Value);
        }
    }

    [Fact]
    public void It_is_not_the_ISO_HDLC_crc32()
    {
        // CRC-32/ISO-HDLC (zip, System.IO.Hashing.Crc32) of "123456789" is CBF43926.
        Assert.NotEqual(0xCBF43926u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
    }
}
