using Commissable.Backup.Core.CloudSql;

namespace Commissable.Backup.Core.Tests.CloudSql;

/// <summary>A Cloud SQL user carries a password on insert; its text, wherever it is printed, does not.</summary>
public sealed class UserTests
{
    [Fact]
    public void Its_text_says_a_password_is_set_but_not_what_it_is()
    {
        var user = new User { Name = "crm_app", Instance = "staging", Password = "correct-horse-battery" };

        var text = user.ToString();

        Assert.DoesNotContain("correct-horse-battery", text, StringComparison.Ordinal);
        Assert.Contains("Name = crm_app", text, StringComparison.Ordinal);
        Assert.Contains("Password = (set)", text, StringComparison.Ordinal);
        Assert.Contains("Password = ,", new User { Name = "crm_app" }.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Two_users_still_compare_by_every_field()
    {
        Assert.Equal(new User { Name = "a", Password = "x" }, new User { Name = "a", Password = "x" });
        Assert.NotEqual(new User { Name = "a", Password = "x" }, new User { Name = "a", Password = "y" });
    }
}
