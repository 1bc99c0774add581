using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Export;
using Commissable.Backup.Core.Naming;

namespace Commissable.Backup.Core.Tests.Naming;

public sealed class CloudNamesTests
{
    [Theory]
    [InlineData("prod")]
    [InlineData("crm-prod-2")]
    [InlineData("a")]
    public void Instance_ids_Google_accepts_pass(string name) => Assert.True(CloudNames.IsInstance(name));

    [Theory]
    [InlineData("prod\n")]
    [InlineData("prod\r\n")]
    [InlineData("Prod")]
    [InlineData("prod-")]
    [InlineData("1prod")]
    [InlineData("..")]
    [InlineData("")]
    [InlineData("pr od")]
    public void Instance_ids_Google_refuses_fail(string name) => Assert.False(CloudNames.IsInstance(name));

    [Fact]
    public void An_instance_id_of_99_characters_fails() => Assert.False(CloudNames.IsInstance("a" + new string('b', 98)));

    [Theory]
    [InlineData("crm")]
    [InlineData("_scratch")]
    [InlineData("crm_staging-2")]
    public void Database_names_pass(string name) => Assert.True(CloudNames.IsDatabase(name));

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("crm\n")]
    [InlineData("host=127.0.0.1 port=1 dbname=crm")]
    [InlineData("postgresql://x@y/crm")]
    [InlineData("crm;drop")]
    [InlineData("a/b")]
    [InlineData("crm'")]
    [InlineData("")]
    public void Database_names_that_could_be_a_path_or_a_connection_string_fail(string name) => Assert.False(CloudNames.IsDatabase(name));

    [Fact]
    public void A_database_name_of_64_characters_fails() => Assert.False(CloudNames.IsDatabase(new string('d', 64)));

    [Theory]
    [InlineData("postgres")]
    [InlineData("crm_app")]
    [InlineData("deployer@my-project.iam")]
    public void User_names_pass(string name) => Assert.True(CloudNames.IsUser(name));

    [Theory]
    [InlineData("..")]
    [InlineData("app\n")]
    [InlineData("app user")]
    [InlineData("app=x")]
    public void User_names_fail(string name) => Assert.False(CloudNames.IsUser(name));

    [Fact]
    public void Problems_name_the_field_and_show_control_characters_as_question_marks()
    {
        var problem = CloudNames.InstanceProblem("prod\n", "sourceInstance");
        Assert.NotNull(problem);
        Assert.Contains("'sourceInstance'", problem);
        Assert.Contains("'prod?'", problem);
        Assert.DoesNotContain("\n", problem);
    }

    [Theory]
    [InlineData("crm-database-url", true)]
    [InlineData("DB_URL_2", true)]
    [InlineData("projects/p/secrets/x", false)]
    [InlineData("..", false)]
    [InlineData("url\n", false)]
    public void Secret_ids_are_letters_digits_dash_and_underscore(string id, bool valid) => Assert.Equal(valid, CloudNames.IsSecretId(id));

    [Theory]
    [InlineData("1764720000000", true)]
    [InlineData("9223372036854775807", true)]
    [InlineData("9223372036854775808", false)]
    [InlineData("0", false)]
    [InlineData("-5", false)]
    [InlineData("42\n", false)]
    [InlineData("latest", false)]
    public void Backup_run_ids_are_positive_64_bit_integers(string id, bool valid) => Assert.Equal(valid, CloudNames.IsBackupRunId(id));

    [Fact]
    public void A_change_slug_with_a_trailing_newline_fails() => Assert.False(ChangeSlug.IsValid("x\n"));

    [Theory]
    [InlineData("prod\n", "crm", "x")]
    [InlineData("prod", "crm\n", "x")]
    [InlineData("prod", "crm", "x\n")]
    [InlineData("prod", "..", "x")]
    public void A_pre_deploy_request_with_a_trailing_newline_or_a_dot_name_is_refused(string instance, string database, string change) =>
        Assert.NotEmpty(new PreDeployRequest { Instance = instance, Database = database, Change = change }.Problems());
}

public sealed class ReservedRolesTests
{
    [Theory]
    [InlineData("postgres")]
    [InlineData("Postgres")]
    [InlineData("cloudsqladmin")]
    [InlineData("CloudSQLSuperUser")]
    [InlineData("pg_read_all_data")]
    [InlineData("PG_write_server_files")]
    [InlineData("public")]
    public void Administrative_and_built_in_roles_are_reserved_whatever_their_case(string role) => Assert.True(ReservedRoles.IsReserved(role));

    [Theory]
    [InlineData("crm_app")]
    [InlineData("postgres_reader")]
    [InlineData("app_pg")]
    public void Ordinary_roles_are_not_reserved(string role) => Assert.False(ReservedRoles.IsReserved(role));
}
