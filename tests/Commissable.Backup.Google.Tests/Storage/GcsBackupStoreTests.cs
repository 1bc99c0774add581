using System.Net;
using System.Text;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Google.Storage;
using Commissable.Backup.Google.Tests.Replay;
using Google.Cloud.Storage.V1;

namespace Commissable.Backup.Google.Tests.Storage;

/// <summary>
/// The Cloud Storage store over the real client library, whose HTTP is replayed: what it sends is
/// checked against the storage.v1 discovery document, and what it answers is shaped by it.
/// </summary>
public sealed class GcsBackupStoreTests : ReplayTest
{
    private const string Bucket = StorageHarness.Bucket;
    private const string ObjectPath = "storage/v1/b/" + Bucket + "/o";
    private const string UploadPath = "upload/storage/v1/b/" + Bucket + "/o";
    private const string Session = UploadPath + "?uploadType=resumable&upload_id=session-1";

    private static string Escaped(string name) => Uri.EscapeDataString(name);

    private static HttpResponseMessage SessionStarted()
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("") };
        response.Headers.Location = new Uri(StorageHarness.Root, Session);
        return response;
    }

    /// <summary>The library's resumable upload: a JSON initiation with the precondition, then the bytes to the session URI.</summary>
    private static void ExpectUpload(StorageHarness harness, string name, string preconditionQuery, byte[] content, long generation, string contentType)
    {
        harness.Http.Expect(HttpMethod.Post, $"{UploadPath}?uploadType=resumable{preconditionQuery}")
            .WithJsonBody($$"""{"bucket":"{{Bucket}}","name":"{{name}}","contentType":"{{contentType}}"}""")
            .Check(r => r.Header("X-Upload-Content-Type") == contentType ? null : $"X-Upload-Content-Type was {r.Header("X-Upload-Content-Type")}")
            .RespondWith(_ => SessionStarted());
        harness.Http.Expect(HttpMethod.Put, Session).AsUploadSession()
            .Check(r => r.Body is not null && r.Body.AsSpan().SequenceEqual(content) ? null : $"uploaded {r.Body?.Length} bytes, not the {content.Length} written")
            .Check(r => r.ContentHeaders?.ContentRange?.ToString() == $"bytes 0-{content.Length - 1}/{content.Length}" ? null : $"Content-Range was {r.ContentHeaders?.ContentRange}")
            // The library sends the CRC32C of what it uploaded; the server rejects a mismatch.
            .Check(r => r.Header("x-goog-hash") == $"crc32c={StorageHarness.Crc32C(content)}" ? null : $"x-goog-hash was {r.Header("x-goog-hash")}")
            .RespondJson(StorageHarness.ObjectJson(name, content, generation, contentType));
    }

    [Fact]
    public async Task Get_parses_int64_fields_sent_as_strings_and_the_checksums()
    {
        var harness = NewStorageHarness();
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}/{Escaped("backups/prod/a.sql.gz")}")
            .RespondJson(StorageHarness.ObjectJson("backups/prod/a.sql.gz", "5497558138880", "9007199254740993", "123456789"u8.ToArray(), "application/gzip"));

        var found = await harness.Store.GetAsync("backups/prod/a.sql.gz");

        Assert.Equal(new StoredObject
        {
            Bucket = Bucket,
            Name = "backups/prod/a.sql.gz",
            // Beyond 2^53: a trip through double would have changed them.
            Size = 5_497_558_138_880,
            Generation = 9_007_199_254_740_993,
            Updated = new DateTimeOffset(2025, 3, 4, 5, 6, 7, 891, TimeSpan.Zero),
            ContentType = "application/gzip",
            Md5Hash = "JfnnlDI7RTiF9RgfG2JNCw==",
            Crc32c = "4waSgw==",
        }, found);
    }

    [Fact]
    public async Task Get_of_an_absent_object_is_null()
    {
        var harness = NewStorageHarness();
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}/missing").RespondError(HttpStatusCode.NotFound, "notFound", "No such object: commissable-backups-test/missing");

        Assert.Null(await harness.Store.GetAsync("missing"));
    }

    [Fact]
    public async Task A_size_beyond_int64_is_refused_not_wrapped()
    {
        var harness = NewStorageHarness();
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}/huge").RespondJson(StorageHarness.ObjectJson("huge", "18446744073709551615", "1"));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => harness.Store.GetAsync("huge"));
        Assert.Contains("beyond int64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_create_only_write_sends_ifGenerationMatch_0_and_streams_the_bytes_to_the_upload_session()
    {
        var harness = NewStorageHarness();
        var content = Encoding.UTF8.GetBytes("""{"kind":"manifest"}""");
        ExpectUpload(harness, "backups/prod/a.manifest.json", "&ifGenerationMatch=0", content, 1_741_064_767_891_001, "application/json");

        var written = await harness.Store.WriteAsync("backups/prod/a.manifest.json", new MemoryStream(content), "application/json", ifGenerationMatch: 0);

        Assert.Equal(1_741_064_767_891_001, written.Generation);
        Assert.Equal(content.Length, written.Size);
        Assert.Equal(StorageHarness.Crc32C(content), written.Crc32c);
        Assert.Equal("gs://commissable-backups-test/backups/prod/a.manifest.json", written.Uri);
    }

    [Fact]
    public async Task A_replace_sends_the_expected_generation_and_an_unconditional_write_sends_none()
    {
        var harness = NewStorageHarness();
        var content = "v2"u8.ToArray();
        ExpectUpload(harness, "lease", "&ifGenerationMatch=1741064767891001", content, 1_741_064_767_891_002, "text/plain");
        ExpectUpload(harness, "lease", "", content, 1_741_064_767_891_003, "text/plain");

        Assert.Equal(1_741_064_767_891_002, (await harness.Store.WriteAsync("lease", new MemoryStream(content), "text/plain", 1_741_064_767_891_001)).Generation);
        Assert.Equal(1_741_064_767_891_003, (await harness.Store.WriteAsync("lease", new MemoryStream(content), "text/plain", null)).Generation);
    }

    [Fact]
    public async Task A_412_when_the_upload_starts_is_a_failed_precondition()
    {
        var harness = NewStorageHarness();
        harness.Http.Expect(HttpMethod.Post, $"{UploadPath}?uploadType=resumable&ifGenerationMatch=0")
            .RespondError(HttpStatusCode.PreconditionFailed, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");

        var error = await Assert.ThrowsAsync<StorePreconditionFailedException>(
            () => harness.Store.WriteAsync("locks/instance-a", new MemoryStream("x"u8.ToArray()), "text/plain", 0));

        Assert.Equal("locks/instance-a", error.Name);
    }

    [Fact]
    public async Task A_412_when_the_upload_completes_is_a_failed_precondition()
    {
        // Another writer created the object while these bytes were in flight.
        var harness = NewStorageHarness();
        harness.Http.Expect(HttpMethod.Post, $"{UploadPath}?uploadType=resumable&ifGenerationMatch=0").RespondWith(_ => SessionStarted());
        harness.Http.Expect(HttpMethod.Put, Session).AsUploadSession()
            .RespondError(HttpStatusCode.PreconditionFailed, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");

        await Assert.ThrowsAsync<StorePreconditionFailedException>(
            () => harness.Store.WriteAsync("locks/instance-a", new MemoryStream("x"u8.ToArray()), "text/plain", 0));
    }

    [Fact]
    public async Task A_non_seekable_source_is_uploaded_chunk_by_chunk_never_whole()
    {
        var harness = NewStorageHarness();
        const int Chunk = UploadObjectOptions.MinimumChunkSize * 40; // the library's default, 10 MiB
        const int Total = Chunk + 4096;
        harness.Http.Expect(HttpMethod.Post, $"{UploadPath}?uploadType=resumable&ifGenerationMatch=0")
            .Check(r => r.Header("X-Upload-Content-Length") is null ? null : "a non-seekable source has no known length")
            .RespondWith(_ => SessionStarted());
        harness.Http.Expect(HttpMethod.Put, Session).AsUploadSession()
            .Check(r => r.ContentHeaders?.ContentRange?.ToString() == $"bytes 0-{Chunk - 1}/*" ? null : $"first chunk was {r.ContentHeaders?.ContentRange}")
            .RespondWith(r =>
            {
                var more = new HttpResponseMessage((HttpStatusCode)308) { Content = new StringContent("") };
                more.Headers.TryAddWithoutValidation("Range", $"bytes=0-{r.Body!.Length - 1}");
                return more;
            });
        harness.Http.Expect(HttpMethod.Put, Session).AsUploadSession()
            .Check(r => r.ContentHeaders?.ContentRange?.ToString() == $"bytes {Chunk}-{Total - 1}/{Total}" ? null : $"last chunk was {r.ContentHeaders?.ContentRange}")
            .Check(r => r.Header("x-goog-hash")?.StartsWith("crc32c=", StringComparison.Ordinal) == true ? null : "the last chunk carries no checksum")
            .RespondJson(StorageHarness.ObjectJson("big.sql.gz", Total.ToString(System.Globalization.CultureInfo.InvariantCulture), "7"));

        var written = await harness.Store.WriteAsync("big.sql.gz", new ForwardOnlyStream(Total), "application/gzip", 0);

        Assert.Equal(Total, written.Size);
    }

    [Fact]
    public async Task A_delete_sends_ifGenerationMatch_and_an_unconditional_one_sends_none()
    {
        var harness = NewStorageHarness();
        harness.Http.Expect(HttpMethod.Delete, $"{ObjectPath}/{Escaped("backups/a.sql.gz")}?ifGenerationMatch=1741064767891001").Respond(HttpStatusCode.NoContent, "");
        harness.Http.Expect(HttpMethod.Delete, $"{ObjectPath}/{Escaped("backups/b.sql.gz")}").Respond(HttpStatusCode.NoContent, "");

        await harness.Store.DeleteAsync("backups/a.sql.gz", 1_741_064_767_891_001);
        await harness.Store.DeleteAsync("backups/b.sql.gz", null);
    }

    [Fact]
    public async Task A_delete_with_a_stale_generation_is_a_failed_precondition_and_of_an_absent_object_not_found()
    {
        var harness = NewStorageHarness();
        harness.Http.Expect(HttpMethod.Delete, $"{ObjectPath}/a?ifGenerationMatch=5")
            .RespondError(HttpStatusCode.PreconditionFailed, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");
        harness.Http.Expect(HttpMethod.Delete, $"{ObjectPath}/b").RespondError(HttpStatusCode.NotFound, "notFound", "No such object: commissable-backups-test/b");

        Assert.Equal("a", (await Assert.ThrowsAsync<StorePreconditionFailedException>(() => harness.Store.DeleteAsync("a", 5))).Name);
        Assert.Equal("b", (await Assert.ThrowsAsync<StoredObjectNotFoundException>(() => harness.Store.DeleteAsync("b", null))).Name);
    }

    [Fact]
    public async Task Listing_sends_the_prefix_and_follows_page_tokens_in_order()
    {
        var harness = NewStorageHarness();
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}?prefix={Escaped("backups/prod/")}")
            .RespondJson($$"""{"kind":"storage#objects","nextPageToken":"page-2","items":[{{StorageHarness.ObjectJson("backups/prod/a", "1", "11")}},{{StorageHarness.ObjectJson("backups/prod/b", "2", "12")}}]}""");
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}?pageToken=page-2&prefix={Escaped("backups/prod/")}")
            .RespondJson($$"""{"kind":"storage#objects","items":[{{StorageHarness.ObjectJson("backups/prod/c", "3", "13")}}]}""");

        var listed = await harness.Store.ListAsync("backups/prod/").ToListAsync();

        Assert.Equal(["backups/prod/a", "backups/prod/b", "backups/prod/c"], listed.Select(o => o.Name));
        Assert.Equal([1L, 2, 3], listed.Select(o => o.Size));
        Assert.Equal([11L, 12, 13], listed.Select(o => o.Generation));
    }

    [Fact]
    public async Task Listing_an_empty_prefix_lists_the_bucket_and_an_empty_answer_is_no_objects()
    {
        var harness = NewStorageHarness();
        harness.Http.Expect(HttpMethod.Get, ObjectPath).RespondJson("""{"kind":"storage#objects"}""");

        Assert.Empty(await harness.Store.ListAsync("").ToListAsync());
    }

    [Fact]
    public async Task OpenRead_downloads_the_generation_it_described()
    {
        var harness = NewStorageHarness();
        var content = Encoding.UTF8.GetBytes("SELECT 1;\n");
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}/{Escaped("backups/a.sql")}")
            .RespondJson(StorageHarness.ObjectJson("backups/a.sql", content, 42));
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}/{Escaped("backups/a.sql")}?generation=42&alt=media")
            .RespondWith(_ => Media(content, StorageHarness.Crc32C(content), StorageHarness.Md5(content)));

        await using var stream = await harness.Store.OpenReadAsync("backups/a.sql");
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);

        Assert.Equal(content, copy.ToArray());
    }

    [Fact]
    public async Task OpenRead_of_an_absent_object_throws_not_found_before_any_read()
    {
        var harness = NewStorageHarness();
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}/missing").RespondError(HttpStatusCode.NotFound, "notFound", "No such object: commissable-backups-test/missing");

        var error = await Assert.ThrowsAsync<StoredObjectNotFoundException>(() => harness.Store.OpenReadAsync("missing"));
        Assert.Equal("missing", error.Name);
    }

    [Fact]
    public async Task An_object_deleted_between_describe_and_download_is_not_found_on_read()
    {
        var harness = NewStorageHarness();
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}/gone").RespondJson(StorageHarness.ObjectJson("gone", "3", "9"));
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}/gone?generation=9&alt=media")
            .RespondError(HttpStatusCode.NotFound, "notFound", "No such object: commissable-backups-test/gone");

        await using var stream = await harness.Store.OpenReadAsync("gone");

        await Assert.ThrowsAsync<StoredObjectNotFoundException>(() => stream.CopyToAsync(Stream.Null));
    }

    [Fact]
    public async Task A_download_whose_checksum_does_not_match_fails_the_read()
    {
        var harness = NewStorageHarness();
        var content = "corrupted on the way"u8.ToArray();
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}/a").RespondJson(StorageHarness.ObjectJson("a", content, 1));
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}/a?generation=1&alt=media")
            .RespondWith(_ => Media(content, StorageHarness.Crc32C("something else"u8), StorageHarness.Md5("something else"u8.ToArray())));

        await using var stream = await harness.Store.OpenReadAsync("a");

        var error = await Assert.ThrowsAnyAsync<IOException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Contains("hash", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task OpenRead_hands_bytes_over_while_the_download_is_still_running()
    {
        var harness = NewStorageHarness();
        var body = new GatedStream(firstPart: 512 * 1024, total: 4 * 1024 * 1024);
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}/big").RespondJson(StorageHarness.ObjectJson("big", body.Total.ToString(System.Globalization.CultureInfo.InvariantCulture), "3"));
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}/big?generation=3&alt=media")
            .RespondWith(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(body) });

        await using var stream = await harness.Store.OpenReadAsync("big");
        var buffer = new byte[16 * 1024];
        var first = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        // The rest of the object has not even been sent yet: nothing waited for the whole of it.
        Assert.True(first > 0);
        Assert.False(body.Released);

        body.Release();
        long total = first;
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            total += n;
        }

        Assert.Equal(body.Total, total);
    }

    [Fact]
    public async Task Disposing_the_stream_early_stops_the_download()
    {
        var harness = NewStorageHarness();
        var body = new GatedStream(firstPart: 512 * 1024, total: 64 * 1024 * 1024);
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}/big").RespondJson(StorageHarness.ObjectJson("big", body.Total.ToString(System.Globalization.CultureInfo.InvariantCulture), "3"));
        harness.Http.Expect(HttpMethod.Get, $"{ObjectPath}/big?generation=3&alt=media")
            .RespondWith(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(body) });

        var stream = await harness.Store.OpenReadAsync("big");
        Assert.True(await stream.ReadAsync(new byte[1024]).AsTask().WaitAsync(TimeSpan.FromSeconds(10)) > 0);

        await stream.DisposeAsync();
        body.Release();

        // The library reads one more buffer, fails to hand it over, and closes the response.
        await body.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(body.Served < 4 * 1024 * 1024, $"{body.Served} of {body.Total} bytes were fetched for a reader that had gone");
    }

    [Theory]
    [InlineData("")]
    [InlineData("gs://bucket")]
    [InlineData("bucket/path")]
    public void A_bucket_that_is_not_a_bare_name_is_refused(string bucket)
    {
        var harness = NewStorageHarness();
        Assert.ThrowsAny<ArgumentException>(() => new GcsBackupStore(harness.Client, bucket));
    }

    private static HttpResponseMessage Media(byte[] content, string crc32c, string md5)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(content) };
        response.Content.Headers.ContentType = new("application/octet-stream");
        response.Headers.TryAddWithoutValidation("x-goog-hash", $"crc32c={crc32c},md5={md5}");
        response.Headers.TryAddWithoutValidation("x-goog-generation", "1");
        return response;
    }

    /// <summary>A source without a length, as a pg_dump pipe is.</summary>
    private sealed class ForwardOnlyStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            buffer.AsSpan(offset, n).Fill((byte)(_position % 251));
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A response body that sends its first part, then waits for the test before the rest.</summary>
    private sealed class GatedStream(int firstPart, long total) : Stream
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _position;

        public long Total => total;
        public long Served => Interlocked.Read(ref _position);
        public bool Released => _gate.Task.IsCompleted;
        public Task Closed => _closed.Task;

        public void Release() => _gate.TrySetResult();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= firstPart)
            {
                await _gate.Task.WaitAsync(cancellationToken);
            }

            var limit = _position < firstPart ? firstPart : total;
            var n = (int)Math.Min(buffer.Length, limit - _position);
            buffer.Span[..n].Fill(7);
            Interlocked.Add(ref _position, n);
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            _closed.TrySetResult();
            base.Dispose(disposing);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
