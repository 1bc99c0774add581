namespace Commissable.LocalCloud.Tests;

/// <summary>
/// Malformed requests per method of the local cloud's API: missing, extra, wrongly typed,
/// duplicate and oversized fields; control characters; traversal in names and gs:// URIs;
/// injection-shaped names; wrong methods and content types. Every one is answered before any work
/// on a cluster, with a 4xx whose message names the problem. Requests go to the instance
/// <c>src</c>, which exists; paths are relative to the project.
/// </summary>
public static class BadInputTables
{
    public sealed record BadRequest(string Endpoint, string Method, string Path, string? Body, int Status, string Message, string? ContentType = "application/json")
    {
        public override string ToString() => $"{Endpoint}: {Method} {Path} {Shorten(Body)}";

        private static string Shorten(string? body) => body is null ? "" : body.Length > 80 ? body[..80] + "…" : body;
    }

    private static readonly string Long = new('a', 200);
    private static readonly string Huge = "{\"name\":\"" + new string('x', 2 << 20) + "\"}";

    public static IEnumerable<BadRequest> All() =>
        InstancesInsert().Concat(InstancesPatch()).Concat(InstancesDelete())
            .Concat(DatabasesInsert()).Concat(DatabaseByName("databases.get", "GET")).Concat(DatabaseByName("databases.delete", "DELETE"))
            .Concat(UsersInsert()).Concat(UsersUpdate()).Concat(UsersDelete())
            .Concat(Export()).Concat(Import()).Concat(Clone()).Concat(RestoreBackup())
            .Concat(BackupRunsInsert()).Concat(BackupRunById("backupRuns.get", "GET")).Concat(BackupRunById("backupRuns.delete", "DELETE"))
            .Concat(OperationsGet());

    private static IEnumerable<BadRequest> InstancesInsert()
    {
        const string e = "instances.insert";
        const string p = "instances";
        const string v = "\"databaseVersion\":\"POSTGRES_15\"";
        yield return new(e, "POST", p, "{\"name\":5," + v + "}", 400, "Invalid value at 'name' (TYPE_STRING), 5");
        yield return new(e, "POST", p, """{"name":"okname","databaseVersion":true}""", 400, "Invalid value at 'databaseVersion'");
        yield return new(e, "POST", p, """{"name":"okname","settings":[]}""", 400, "Invalid value at 'settings'");
        yield return new(e, "POST", p, """{"name":"okname","settings":{"backupConfiguration":"x"}}""", 400, "Invalid value at 'settings.backupConfiguration'");
        yield return new(e, "POST", p, """{"name":"okname","settings":{"backupConfiguration":{"enabled":"yes"}}}""", 400, "'settings.backupConfiguration.enabled' (TYPE_BOOL)");
        yield return new(e, "POST", p, """{"name":"okname","settings":{"backupConfiguration":{"transactionLogRetentionDays":"many"}}}""", 400, "'settings.backupConfiguration.transactionLogRetentionDays' (TYPE_INT32)");
        yield return new(e, "POST", p, """{"name":"okname","settings":{"backupConfiguration":{"backupRetentionSettings":{"retainedBackups":1e99}}}}""", 400, "'settings.backupConfiguration.backupRetentionSettings.retainedBackups'");
        yield return new(e, "POST", p, """{"name":"okname","settings":{"userLabels":{"team":5}}}""", 400, "'settings.userLabels.team'");
        yield return new(e, "POST", p, """{"name":"okname","name":"other"}""", 400, "'name' appears more than once");
        yield return new(e, "POST", p, "{" + v + "}", 400, "'name' must be a Cloud SQL instance ID");
        yield return new(e, "POST", p, "{\"name\":\"..\"," + v + "}", 400, "'name' must be a Cloud SQL instance ID");
        yield return new(e, "POST", p, "{\"name\":\"prod\\n\"," + v + "}", 400, "'name' must be a Cloud SQL instance ID");
        yield return new(e, "POST", p, "{\"name\":\"" + Long + "\"," + v + "}", 400, "'name' must be a Cloud SQL instance ID");
        yield return new(e, "POST", p, "{\"name\":\"okname\",\"region\":\"../../etc\"," + v + "}", 400, "'region' must be a Cloud SQL region");
        yield return new(e, "POST", p, "{\"name\":\"okname\",\"rootPassword\":123," + v + "}", 400, "Invalid value at 'rootPassword'");
        yield return new(e, "POST", p, "{\"name\":\"okname\"," + v + "}", 400, "Content-Type 'text/plain", "text/plain");
        yield return new(e, "POST", p, "name=okname", 400, "Content-Type 'application/x-www-form-urlencoded", "application/x-www-form-urlencoded");
        yield return new(e, "POST", p, "not json", 400, "not valid JSON");
        yield return new(e, "POST", p, "[1,2]", 400, "expected a JSON object");
        yield return new(e, "POST", p, "", 400, "body is empty");
        yield return new(e, "POST", p, Huge, 400, "payload size exceeds the limit");
        yield return new(e, "PUT", p, "{}", 404, "is not a method");
    }

    private static IEnumerable<BadRequest> InstancesPatch()
    {
        const string e = "instances.patch";
        const string p = "instances/src";
        yield return new(e, "PATCH", p, """{"name":5}""", 400, "Invalid value at 'name'");
        yield return new(e, "PATCH", p, """{"name":"other"}""", 400, "cannot be renamed");
        yield return new(e, "PATCH", p, """{"settings":[]}""", 400, "Invalid value at 'settings'");
        yield return new(e, "PATCH", p, """{"settings":{"backupConfiguration":"x"}}""", 400, "Invalid value at 'settings.backupConfiguration'");
        yield return new(e, "PATCH", p, """{"settings":{"backupConfiguration":{"startTime":"25:00"}}}""", 400, "startTime '25:00' must be HH:MM");
        yield return new(e, "PATCH", p, """{"settings":{"activationPolicy":5}}""", 400, "Invalid value at 'settings.activationPolicy'");
        yield return new(e, "PATCH", p, """{"settings":{"activationPolicy":"SOMETIMES"}}""", 400, "activationPolicy 'SOMETIMES' is not supported");
        yield return new(e, "PATCH", p, """{"region":"../x"}""", 400, "region of an instance cannot be changed");
        yield return new(e, "PATCH", p, """{"region":null}""", 400, "region of an instance cannot be changed");
        yield return new(e, "PATCH", p, """{"settings":null}""", 400, "'settings' cannot be null");
        yield return new(e, "PATCH", p, """{"region":"europe-west1"}""", 400, "region of an instance cannot be changed");
        yield return new(e, "PATCH", p, """{"databaseVersion":null}""", 400, "databaseVersion cannot be changed");
        yield return new(e, "PATCH", p, """{"settings":{"tier":"a","tier":"b"}}""", 400, "'tier' appears more than once");
        yield return new(e, "PATCH", p, """{"databaseVersion":"POSTGRES_9_6"}""", 400, "databaseVersion cannot be changed");
        yield return new(e, "PATCH", p, """{"settings":{"backupConfiguration":{"enabled":false,"pointInTimeRecoveryEnabled":true}}}""", 400, "Point-in-time recovery requires automated backups");
        yield return new(e, "PATCH", p, """{"settings":{"backupConfiguration":{"transactionLogRetentionDays":99}}}""", 400, "transactionLogRetentionDays must be between 1 and 35");
        yield return new(e, "PATCH", p, """{"settings":{}}""", 400, "Content-Type 'text/plain", "text/plain");
        yield return new(e, "PATCH", p, "{", 400, "not valid JSON");
        yield return new(e, "PATCH", p, "\"settings\"", 400, "expected a JSON object");
        yield return new(e, "PATCH", "instances/%2e%2e", "{}", 400, "'..' segment");
        yield return new(e, "PATCH", "instances/Bad_Name", "{}", 400, "'instance' must be a Cloud SQL instance ID");
        yield return new(e, "PATCH", "instances/nope", "{}", 404, "'nope' does not exist");
    }

    private static IEnumerable<BadRequest> InstancesDelete()
    {
        const string e = "instances.delete";
        foreach (var (path, status, message) in new[]
        {
            ("instances/nope", 404, "'nope' does not exist"),
            ("instances/..", 400, "'..' segment"),
            ("instances/%2e%2e", 400, "'..' segment"),
            ("instances/%2E%2E", 400, "'..' segment"),
            ("instances/.", 400, "'.' segment"),
            ("instances/Bad_Name", 400, "'instance' must be a Cloud SQL instance ID"),
            ("instances/a%2Fb", 400, "encodes '/'"),
            ("instances/a%5Cb", 400, "encodes '/'"),
            ("instances/-abc", 400, "'instance' must be"),
            ("instances/abc-", 400, "'instance' must be"),
            ("instances/" + Long, 400, "'instance' must be"),
            ("instances/src%0A", 400, "'instance' must be"),
            ("instances/src%20", 400, "'instance' must be"),
            ("instances/src;drop", 400, "'instance' must be"),
            ("instances/src'--", 400, "'instance' must be"),
        })
        {
            yield return new(e, "DELETE", path, null, status, message);
        }
        yield return new(e, "DELETE", "/sql/v1beta4/projects/Bad_Project/instances/src", null, 400, "'project' must be a project ID");
        yield return new(e, "DELETE", "instances/src/", null, 400, "empty segment");
    }

    private static IEnumerable<BadRequest> DatabasesInsert()
    {
        const string e = "databases.insert";
        const string p = "instances/src/databases";
        yield return new(e, "POST", p, """{"name":5}""", 400, "Invalid value at 'name' (TYPE_STRING)");
        yield return new(e, "POST", p, "{}", 400, "'name' must be a database name");
        foreach (var name in new[] { "..", ".", "host=127.0.0.1 port=1 dbname=crm", "a\\u0000b", "crm\\n", "a b", "1crm", new string('d', 64), "a;DROP DATABASE postgres" })
        {
            yield return new(e, "POST", p, $$"""{"name":"{{name}}"}""", 400, "'name' must be a database name");
        }
        yield return new(e, "POST", p, """{"name":"a","name":"b"}""", 400, "'name' appears more than once");
        yield return new(e, "POST", p, """{"name":"a","owner":"cloudsqladmin"}""", 400, "Unknown name \"owner\"");
        yield return new(e, "POST", p, """{"name":"a","charset":5}""", 400, "Invalid value at 'charset'");
        yield return new(e, "POST", p, """{"name":"a"}""", 400, "Content-Type", "text/plain");
        yield return new(e, "POST", p, "{'name':'a'}", 400, "not valid JSON");
        yield return new(e, "POST", p, "[]", 400, "expected a JSON object");
        yield return new(e, "POST", p, "", 400, "body is empty");
        yield return new(e, "POST", "instances/Bad_Name/databases", """{"name":"a"}""", 400, "'instance' must be");
        yield return new(e, "POST", "instances/nope/databases", """{"name":"a"}""", 404, "'nope' does not exist");
    }

    private static IEnumerable<BadRequest> DatabaseByName(string e, string method)
    {
        foreach (var (name, status, message) in new[]
        {
            ("..", 400, "'..' segment"),
            ("%2e%2e", 400, "'..' segment"),
            ("%2E%2E", 400, "'..' segment"),
            (".", 400, "'.' segment"),
            ("a%2Fb", 400, "encodes '/'"),
            ("a%5Cb", 400, "encodes '/'"),
            ("a%2eb", 400, "encodes '/'"),
            ("a%20b", 400, "'database' must be a database name"),
            ("host%3D127.0.0.1%20port%3D1%20dbname%3Dcrm", 400, "'database' must be a database name"),
            (new string('d', 64), 400, "'database' must be a database name"),
            ("a%0Ab", 400, "'database' must be a database name"),
            ("a%22b", 400, "'database' must be a database name"),
            ("a'b", 400, "'database' must be a database name"),
            ("-x", 400, "'database' must be a database name"),
            ("nodb", 404, "'nodb' does not exist"),
        })
        {
            yield return new(e, method, "instances/src/databases/" + name, null, status, message);
        }
        yield return new(e, method, "instances/nope/databases/crm", null, 404, "'nope' does not exist");
        yield return new(e, method, "instances/%2e%2e/databases/crm", null, 400, "'..' segment");
    }

    private static IEnumerable<BadRequest> UsersInsert()
    {
        const string e = "users.insert";
        const string p = "instances/src/users";
        yield return new(e, "POST", p, """{"name":5}""", 400, "Invalid value at 'name'");
        yield return new(e, "POST", p, "{}", 400, "'name' must be a database user name");
        foreach (var name in new[] { "..", "a b", "a\\nb", new string('u', 64), "x'; DROP ROLE postgres;--", "host=x" })
        {
            yield return new(e, "POST", p, $$"""{"name":"{{name}}"}""", 400, "'name' must be a database user name");
        }
        foreach (var name in new[] { "cloudsqladmin", "cloudsqlsuperuser", "pg_monitor" })
        {
            yield return new(e, "POST", p, $$"""{"name":"{{name}}"}""", 400, "reserved");
        }
        yield return new(e, "POST", p, """{"name":"app","password":5}""", 400, "Invalid value at 'password'");
        yield return new(e, "POST", p, """{"name":"app","superuser":true}""", 400, "Unknown name \"superuser\"");
        yield return new(e, "POST", p, """{"name":"app","name":"cloudsqladmin"}""", 400, "'name' appears more than once");
        yield return new(e, "POST", p, """{"name":"app"}""", 400, "Content-Type", "text/plain");
        yield return new(e, "POST", p, "nope", 400, "not valid JSON");
        yield return new(e, "POST", p, "[]", 400, "expected a JSON object");
        yield return new(e, "POST", p, "", 400, "body is empty");
    }

    private static IEnumerable<BadRequest> UsersUpdate()
    {
        const string e = "users.update";
        const string p = "instances/src/users";
        const string ok = """{"password":"pw"}""";
        yield return new(e, "PUT", p, ok, 400, "query parameter 'name' is required");
        yield return new(e, "PUT", p + "?name=%2e%2e", ok, 400, "'name' must be a database user name");
        yield return new(e, "PUT", p + "?name=a%20b", ok, 400, "'name' must be a database user name");
        yield return new(e, "PUT", p + "?name=a%0Ab", ok, 400, "'name' must be a database user name");
        yield return new(e, "PUT", p + "?name=" + new string('u', 64), ok, 400, "'name' must be a database user name");
        yield return new(e, "PUT", p + "?name=cloudsqladmin", ok, 400, "reserved");
        yield return new(e, "PUT", p + "?name=pg_read_server_files", ok, 400, "reserved");
        yield return new(e, "PUT", p + "?name=a&name=b", ok, 400, "'name' is given more than once");
        yield return new(e, "PUT", p + "?name=nouser", ok, 404, "'nouser' does not exist");
        yield return new(e, "PUT", p + "?name=postgres", """{"password":5}""", 400, "Invalid value at 'password'");
        yield return new(e, "PUT", p + "?name=postgres", """{"name":"cloudsqladmin"}""", 400, "cannot be renamed");
        yield return new(e, "PUT", p + "?name=postgres", """{"password":"a","password":"b"}""", 400, "'password' appears more than once");
        yield return new(e, "PUT", p + "?name=postgres", """{"password":"a","role":"x"}""", 400, "Unknown name \"role\"");
        yield return new(e, "PUT", p + "?name=postgres", ok, 400, "Content-Type", "text/plain");
        yield return new(e, "PUT", p + "?name=postgres", "{", 400, "not valid JSON");
        yield return new(e, "PUT", p + "?name=postgres", "[]", 400, "expected a JSON object");
        yield return new(e, "PUT", p + "?name=postgres", "", 400, "body is empty");
    }

    private static IEnumerable<BadRequest> UsersDelete()
    {
        const string e = "users.delete";
        const string p = "instances/src/users";
        foreach (var (query, status, message) in new[]
        {
            ("", 400, "query parameter 'name' is required"),
            ("?name=", 400, "'name' must be a database user name"),
            ("?name=%2e%2e", 400, "'name' must be a database user name"),
            ("?name=..", 400, "'name' must be a database user name"),
            ("?name=a%20b", 400, "'name' must be a database user name"),
            ("?name=a%0Ab", 400, "'name' must be a database user name"),
            ("?name=" + new string('u', 64), 400, "'name' must be a database user name"),
            ("?name=x%27%3B--", 400, "'name' must be a database user name"),
            ("?name=cloudsqladmin", 400, "reserved"),
            ("?name=cloudsqlsuperuser", 400, "reserved"),
            ("?name=pg_signal_backend", 400, "reserved"),
            ("?name=a&name=b", 400, "'name' is given more than once"),
            ("?name=nouser", 404, "'nouser' does not exist"),
        })
        {
            yield return new(e, "DELETE", p + query, null, status, message);
        }
        yield return new(e, "DELETE", "instances/nope/users?name=app", null, 404, "'nope' does not exist");
        yield return new(e, "DELETE", "instances/Bad_Name/users?name=app", null, 400, "'instance' must be");
        yield return new(e, "DELETE", "instances/src/users/..?name=app", null, 400, "'..' segment");
    }

    private static IEnumerable<BadRequest> Export()
    {
        const string e = "export";
        const string p = "instances/src/export";
        static string Body(string inner) => "{\"exportContext\":{\"fileType\":\"SQL\",\"uri\":\"gs://bkt1/x.sql\",\"databases\":[\"postgres\"]" + inner + "}}";
        yield return new(e, "POST", p, Body(",\"sqlExportOptions\":{\"parallel\":true,\"threads\":1000}"), 400, "'exportContext.sqlExportOptions.threads' must be from 1 to 16");
        yield return new(e, "POST", p, Body(",\"sqlExportOptions\":{\"parallel\":true,\"threads\":0}"), 400, "'exportContext.sqlExportOptions.threads' must be from 1 to 16");
        yield return new(e, "POST", p, Body(",\"sqlExportOptions\":{\"parallel\":true,\"threads\":17}"), 400, "'exportContext.sqlExportOptions.threads' must be from 1 to 16");
        yield return new(e, "POST", p, Body(",\"sqlExportOptions\":{\"parallel\":true,\"threads\":\"many\"}"), 400, "Invalid value at 'exportContext.sqlExportOptions.threads' (TYPE_INT32)");
        yield return new(e, "POST", p, Body(",\"sqlExportOptions\":{\"parallel\":\"yes\"}"), 400, "Invalid value at 'exportContext.sqlExportOptions.parallel'");
        yield return new(e, "POST", p, Body(",\"sqlExportOptions\":{\"tables\":[1]}"), 400, "Invalid value at 'exportContext.sqlExportOptions.tables[0]'");
        yield return new(e, "POST", p, Body(",\"sqlExportOptions\":{\"tables\":[\"a\\u0001b\"]}"), 400, "'exportContext.sqlExportOptions.tables[0]' must be a table name");
        yield return new(e, "POST", p, """{"exportContext":{"fileType":"SQL","uri":"gs://bkt1/x.sql","databases":"postgres"}}""", 400, "Invalid value at 'exportContext.databases'");
        yield return new(e, "POST", p, """{"exportContext":{"fileType":"SQL","uri":"gs://bkt1/x.sql","databases":[".."]}}""", 400, "'exportContext.databases[0]' must be a database name");
        yield return new(e, "POST", p, """{"exportContext":{"fileType":"SQL","uri":5,"databases":["postgres"]}}""", 400, "Invalid value at 'exportContext.uri'");
        yield return new(e, "POST", p, """{"exportContext":{"fileType":"SQL","uri":"gs://bkt1/x\u0000.sql","databases":["postgres"]}}""", 400, "'exportContext.uri' must be gs://");
        yield return new(e, "POST", p, """{"exportContext":{"fileType":"SQL","uri":"gs://bkt1/../escape.sql","databases":["postgres"]}}""", 400, "'..' segment");
        yield return new(e, "POST", p, """{"exportContext":{"fileType":"SQL","uri":"gs://BAD/x.sql","databases":["postgres"]}}""", 400, "'BAD' is not a bucket name");
        yield return new(e, "POST", p, """{"exportContext":{"fileType":5,"uri":"gs://bkt1/x.sql","databases":["postgres"]}}""", 400, "Invalid value at 'exportContext.fileType'");
        yield return new(e, "POST", p, """{"exportContext":"x"}""", 400, "Invalid value at 'exportContext'");
        yield return new(e, "POST", p, Body(",\"compression\":\"zstd\""), 400, "Unknown name \"compression\" at 'exportContext'");
        yield return new(e, "POST", p, """{"exportContext":{},"instance":"other"}""", 400, "Unknown name \"instance\" at 'body'");
        yield return new(e, "POST", p, """{"exportContext":{"uri":"gs://bkt1/a.sql","uri":"gs://bkt1/b.sql","databases":["postgres"]}}""", 400, "'uri' appears more than once");
        yield return new(e, "POST", p, Body(""), 400, "Content-Type", "text/plain");
        yield return new(e, "POST", p, "exportContext", 400, "not valid JSON");
        yield return new(e, "POST", p, "{}", 400, "exportContext is required");
        yield return new(e, "GET", p, null, 404, "is not a method");
    }

    private static IEnumerable<BadRequest> Import()
    {
        const string e = "import";
        const string p = "instances/src/import";
        static string Body(string inner) => "{\"importContext\":{\"fileType\":\"SQL\",\"uri\":\"gs://bkt1/x.sql\",\"database\":\"postgres\"" + inner + "}}";
        yield return new(e, "POST", p, """{"importContext":{"fileType":"SQL","uri":"gs://bkt1/x.sql"}}""", 400, "'importContext.database' must be a database name");
        yield return new(e, "POST", p, """{"importContext":{"fileType":"SQL","uri":"gs://bkt1/x.sql","database":".."}}""", 400, "'importContext.database' must be a database name");
        yield return new(e, "POST", p, """{"importContext":{"fileType":"SQL","uri":"gs://bkt1/x.sql","database":5}}""", 400, "Invalid value at 'importContext.database'");
        yield return new(e, "POST", p, Body(",\"importUser\":\"cloudsqladmin\""), 400, "'importContext.importUser' names 'cloudsqladmin', a role reserved");
        yield return new(e, "POST", p, Body(",\"importUser\":5"), 400, "Invalid value at 'importContext.importUser'");
        yield return new(e, "POST", p, Body(",\"importUser\":\"a b\""), 400, "'importContext.importUser' must be a database user name");
        yield return new(e, "POST", p, Body(",\"sqlImportOptions\":{\"threads\":1000}"), 400, "'importContext.sqlImportOptions.threads' must be from 1 to 16");
        yield return new(e, "POST", p, Body(",\"sqlImportOptions\":{\"threads\":\"many\"}"), 400, "Invalid value at 'importContext.sqlImportOptions.threads'");
        yield return new(e, "POST", p, Body(",\"sqlImportOptions\":[]"), 400, "Invalid value at 'importContext.sqlImportOptions'");
        yield return new(e, "POST", p, Body(",\"sqlImportOptions\":{\"postgresImportOptions\":{\"clean\":\"yes\"}}"), 400, "'importContext.sqlImportOptions.postgresImportOptions.clean'");
        yield return new(e, "POST", p, """{"importContext":{"fileType":"SQL","uri":"gs://bkt1/../../token","database":"postgres"}}""", 400, "'..' segment");
        yield return new(e, "POST", p, """{"importContext":{"fileType":"SQL","uri":"/etc/passwd","database":"postgres"}}""", 400, "not a Cloud Storage object URI");
        yield return new(e, "POST", p, """{"importContext":{"fileType":"SQL","database":"postgres"}}""", 400, "it is empty");
        yield return new(e, "POST", p, """{"importContext":{"fileType":"CSV","uri":"gs://bkt1/x.csv","database":"postgres"}}""", 400, "fileType 'CSV' is not supported");
        yield return new(e, "POST", p, """{"importContext":{"fileType":"SQL","uri":"gs://bkt1/missing.sql","database":"postgres"}}""", 400, "does not exist");
        yield return new(e, "POST", p, Body(",\"database\":\"crm\""), 400, "'database' appears more than once");
        yield return new(e, "POST", p, Body(",\"role\":\"cloudsqladmin\""), 400, "Unknown name \"role\" at 'importContext'");
        yield return new(e, "POST", p, Body(""), 400, "Content-Type", "text/plain");
        yield return new(e, "POST", p, "{}", 400, "importContext is required");
        yield return new(e, "POST", p, "null", 400, "The body is null");
    }

    private static IEnumerable<BadRequest> Clone()
    {
        const string e = "clone";
        const string p = "instances/src/clone";
        static string Body(string inner) => "{\"cloneContext\":{" + inner + "}}";
        yield return new(e, "POST", p, Body(""), 400, "'cloneContext.destinationInstanceName' must be a Cloud SQL instance ID");
        yield return new(e, "POST", p, Body("\"destinationInstanceName\":5"), 400, "Invalid value at 'cloneContext.destinationInstanceName'");
        yield return new(e, "POST", p, Body("\"destinationInstanceName\":\"..\""), 400, "'cloneContext.destinationInstanceName' must be");
        yield return new(e, "POST", p, Body("\"destinationInstanceName\":\"Bad_Name\""), 400, "'cloneContext.destinationInstanceName' must be");
        yield return new(e, "POST", p, Body("\"destinationInstanceName\":\"" + Long + "\""), 400, "'cloneContext.destinationInstanceName' must be");
        yield return new(e, "POST", p, Body("\"destinationInstanceName\":\"src\""), 409, "already exists");
        yield return new(e, "POST", p, Body("\"destinationInstanceName\":\"c1\",\"pointInTime\":\"yesterday\""), 400, "'yesterday' is not an RFC 3339 timestamp");
        yield return new(e, "POST", p, Body("\"destinationInstanceName\":\"c1\",\"pointInTime\":5"), 400, "Invalid value at 'cloneContext.pointInTime'");
        yield return new(e, "POST", p, Body("\"destinationInstanceName\":\"c1\",\"pitrTimestampMs\":\"abc\""), 400, "Invalid value at 'cloneContext.pitrTimestampMs' (TYPE_INT64)");
        yield return new(e, "POST", p, Body("\"destinationInstanceName\":\"c1\",\"pitrTimestampMs\":\"9223372036854775807\""), 400, "pitrTimestampMs must be milliseconds");
        yield return new(e, "POST", p, Body("\"destinationInstanceName\":\"c1\",\"databaseNames\":\"crm\""), 400, "Invalid value at 'cloneContext.databaseNames'");
        yield return new(e, "POST", p, Body("\"destinationInstanceName\":\"c1\",\"destinationProject\":\"other-project\""), 400, "destinationProject must be");
        yield return new(e, "POST", p, """{"cloneContext":[]}""", 400, "Invalid value at 'cloneContext'");
        yield return new(e, "POST", p, Body("\"destinationInstanceName\":\"c1\",\"overwrite\":true"), 400, "Unknown name \"overwrite\" at 'cloneContext'");
        yield return new(e, "POST", p, Body("\"destinationInstanceName\":\"c1\",\"destinationInstanceName\":\"src\""), 400, "'destinationInstanceName' appears more than once");
        yield return new(e, "POST", p, Body("\"destinationInstanceName\":\"c1\""), 400, "Content-Type", "text/plain");
        yield return new(e, "POST", p, "{}", 400, "cloneContext is required");
        yield return new(e, "POST", p, "{\"cloneContext\":", 400, "not valid JSON");
    }

    private static IEnumerable<BadRequest> RestoreBackup()
    {
        const string e = "restoreBackup";
        const string p = "instances/src/restoreBackup";
        static string Body(string inner) => "{\"restoreBackupContext\":{" + inner + "}}";
        yield return new(e, "POST", p, Body(""), 400, "restoreBackupContext.backupRunId is required");
        yield return new(e, "POST", p, Body("\"backupRunId\":\"abc\""), 400, "Invalid value at 'restoreBackupContext.backupRunId' (TYPE_INT64)");
        yield return new(e, "POST", p, Body("\"backupRunId\":true"), 400, "Invalid value at 'restoreBackupContext.backupRunId'");
        yield return new(e, "POST", p, Body("\"backupRunId\":1.5"), 400, "Invalid value at 'restoreBackupContext.backupRunId'");
        yield return new(e, "POST", p, Body("\"backupRunId\":\"-1\""), 400, "'-1' is not a backup run id");
        yield return new(e, "POST", p, Body("\"backupRunId\":\"12345\""), 404, "backup run 12345 does not exist");
        yield return new(e, "POST", p, Body("\"backupRunId\":\"1\",\"instanceId\":5"), 400, "Invalid value at 'restoreBackupContext.instanceId'");
        yield return new(e, "POST", p, Body("\"backupRunId\":\"1\",\"instanceId\":\"..\""), 400, "'restoreBackupContext.instanceId' must be");
        yield return new(e, "POST", p, Body("\"backupRunId\":\"1\",\"instanceId\":\"nope\""), 404, "'nope' does not exist");
        yield return new(e, "POST", p, Body("\"backupRunId\":\"1\",\"project\":\"other-project\""), 400, "restoreBackupContext.project must be");
        yield return new(e, "POST", p, """{"restoreBackupContext":"1"}""", 400, "Invalid value at 'restoreBackupContext'");
        yield return new(e, "POST", p, Body("\"backupRunId\":\"1\",\"force\":true"), 400, "Unknown name \"force\"");
        yield return new(e, "POST", p, Body("\"backupRunId\":\"1\",\"backupRunId\":\"2\""), 400, "'backupRunId' appears more than once");
        yield return new(e, "POST", p, Body("\"backupRunId\":\"1\""), 400, "Content-Type", "text/plain");
        yield return new(e, "POST", p, "{}", 400, "restoreBackupContext is required");
        yield return new(e, "POST", p, "1", 400, "expected a JSON object");
        yield return new(e, "POST", "instances/nope/restoreBackup", Body("\"backupRunId\":\"1\""), 404, "'nope' does not exist");
    }

    private static IEnumerable<BadRequest> BackupRunsInsert()
    {
        const string e = "backupRuns.insert";
        const string p = "instances/src/backupRuns";
        yield return new(e, "POST", p, """{"description":5}""", 400, "Invalid value at 'description'");
        yield return new(e, "POST", p, "{\"description\":\"" + new string('d', 5000) + "\"}", 400, "description is 5000 characters");
        yield return new(e, "POST", p, """{"description":"x","retainForever":true}""", 400, "Unknown name \"retainForever\"");
        yield return new(e, "POST", p, """{"description":"a","description":"b"}""", 400, "'description' appears more than once");
        yield return new(e, "POST", p, """{"id":"abc"}""", 400, "Invalid value at 'id' (TYPE_INT64)");
        yield return new(e, "POST", p, """{"type":5}""", 400, "Invalid value at 'type'");
        yield return new(e, "POST", p, """{"windowStartTime":5}""", 400, "Invalid value at 'windowStartTime'");
        yield return new(e, "POST", p, """{"error":"x"}""", 400, "Invalid value at 'error'");
        yield return new(e, "POST", p, """{"description":"x"}""", 400, "Content-Type", "text/plain");
        yield return new(e, "POST", p, "{\"description\":", 400, "not valid JSON");
        yield return new(e, "POST", p, "[]", 400, "expected a JSON object");
        yield return new(e, "POST", p, "null", 400, "The body is null");
        yield return new(e, "POST", "instances/nope/backupRuns", "{}", 404, "'nope' does not exist");
        yield return new(e, "POST", "instances/Bad_Name/backupRuns", "{}", 400, "'instance' must be");
        yield return new(e, "POST", "instances/%2e%2e/backupRuns", "{}", 400, "'..' segment");
        yield return new(e, "POST", "instances/src%0A/backupRuns", "{}", 400, "'instance' must be");
    }

    private static IEnumerable<BadRequest> BackupRunById(string e, string method)
    {
        foreach (var (id, status, message) in new[]
        {
            ("abc", 400, "'abc' is not a backup run id"),
            ("-1", 400, "'-1' is not a backup run id"),
            ("+1", 400, "'+1' is not a backup run id"),
            ("1.5", 400, "'1.5' is not a backup run id"),
            ("1e3", 400, "'1e3' is not a backup run id"),
            ("0x10", 400, "'0x10' is not a backup run id"),
            ("%201", 400, "' 1' is not a backup run id"),
            ("99999999999999999999", 400, "is not a backup run id"),
            ("%D9%A1", 400, "is not a backup run id"),
            ("..", 400, "'..' segment"),
            ("%2e%2e", 400, "'..' segment"),
            ("1%2F2", 400, "encodes '/'"),
            ("12345", 404, "backup run 12345 does not exist"),
        })
        {
            yield return new(e, method, "instances/src/backupRuns/" + id, null, status, message);
        }
        yield return new(e, method, "instances/nope/backupRuns/1", null, 404, "'nope' does not exist");
        yield return new(e, method, "instances/Bad_Name/backupRuns/1", null, 400, "'instance' must be");
    }

    private static IEnumerable<BadRequest> OperationsGet()
    {
        const string e = "operations.get";
        foreach (var (path, status, message) in new[]
        {
            ("operations/no-such-op", 404, "'no-such-op' does not exist"),
            ("operations/..", 400, "'..' segment"),
            ("operations/%2e%2e", 400, "'..' segment"),
            ("operations/a%2Fb", 400, "encodes '/'"),
            ("operations/a%0Ab", 404, "'a?b' does not exist"),
            ("operations/" + new string('o', 1000), 404, "does not exist"),
            ("operations/%27%3B--", 404, "'';--' does not exist"),
            ("operations?instance=Bad_Name", 400, "'instance' must be"),
            ("operations?instance=%2e%2e", 400, "'instance' must be"),
            ("operations?instance=a&instance=b", 400, "'instance' is given more than once"),
            ("operations?instance=src%0A", 400, "'instance' must be"),
        })
        {
            yield return new(e, "GET", path, null, status, message);
        }
        yield return new(e, "GET", "/sql/v1beta4/projects/Bad_Project/operations/x", null, 400, "'project' must be a project ID");
        yield return new(e, "GET", "/sql/v1beta4/projects/%2e%2e/operations/x", null, 400, "'..' segment");
        yield return new(e, "DELETE", "operations/no-such-op", null, 404, "is not a method");
        yield return new(e, "POST", "operations/no-such-op", "{}", 404, "is not a method");
    }
}
