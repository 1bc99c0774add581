using System.Globalization;
using static Commissable.Backup.Postgres.Demo.DemoVocabulary;

namespace Commissable.Backup.Postgres.Demo;

/// <summary>
/// The rows of every demo table, generated one tenant at a time from (seed, table, tenant, index).
/// Nothing is remembered between rows: a child computes its parent's id from the parent's index.
/// </summary>
internal sealed class DemoRows(DemoPlan plan)
{
    // Every timestamp lies in a fixed window, never "now", so equal seeds give equal bytes.
    private static readonly DateTime Epoch = new(2023, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);
    private static readonly DateTime End = new(2025, 6, 1, 0, 0, 0, DateTimeKind.Unspecified);

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    // Repeated labels weight the pick, as in real data (most accounts are customers).
    private static readonly string[] Plans = ["starter", "growth", "enterprise"];
    private static readonly string[] AccountTypes = ["CUSTOMER", "CUSTOMER", "CUSTOMER", "PROSPECT", "PROSPECT", "PARTNER", "VENDOR", "DISTRIBUTOR"];
    private static readonly string[] Stages = ["QUALIFICATION", "DISCOVERY", "PROPOSAL", "NEGOTIATION", "CLOSED_WON", "CLOSED_WON", "CLOSED_LOST"];
    private static readonly string[] ActivityTypes = ["CALL", "EMAIL", "EMAIL", "MEETING", "DEMO", "FOLLOW_UP"];
    private static readonly string[] Priorities = ["LOW", "MEDIUM", "MEDIUM", "HIGH", "URGENT"];
    private static readonly string[] ImportKinds = ["DEPOSIT", "DEPOSIT", "ACCOUNTS", "CONTACTS", "PRODUCTS"];

    private static readonly Dictionary<DemoTable, string[]> ColumnsByTable = new()
    {
        [DemoTable.Tenant] = ["id", "name", "slug", "plan", "status", "settings", "createdAt", "updatedAt", "dataRetentionDays"],
        [DemoTable.Role] = ["id", "tenantId", "name", "description", "isSystem", "createdAt"],
        [DemoTable.RolePermission] = ["tenantId", "roleId", "permissionId", "grantedAt"],
        [DemoTable.User] = ["id", "tenantId", "email", "name", "status", "passwordHash", "lastLoginAt", "preferences", "createdAt", "updatedAt", "deletedAt"],
        [DemoTable.UserRole] = ["tenantId", "userId", "roleId", "assignedAt"],
        [DemoTable.Account] = ["id", "tenantId", "name", "type", "industry", "website", "ownerId", "parentAccountId", "billingAddress", "annualRevenue", "createdAt", "updatedAt", "deletedAt"],
        [DemoTable.Contact] = ["id", "tenantId", "accountId", "firstName", "lastName", "email", "phone", "title", "isPrimary", "createdAt", "updatedAt", "deletedAt"],
        [DemoTable.Product] = ["id", "tenantId", "sku", "name", "category", "unitPrice", "commissionRate", "active", "attributes", "createdAt"],
        [DemoTable.Opportunity] = ["id", "tenantId", "accountId", "ownerId", "productId", "name", "stage", "amount", "probability", "closeDate", "createdAt", "updatedAt", "deletedAt"],
        [DemoTable.Activity] = ["id", "tenantId", "type", "subject", "userId", "accountId", "contactId", "opportunityId", "occurredAt", "durationMinutes", "metadata", "createdAt"],
        [DemoTable.Note] = ["id", "tenantId", "authorId", "accountId", "opportunityId", "body", "pinned", "createdAt", "updatedAt"],
        [DemoTable.Task] = ["id", "tenantId", "assigneeId", "opportunityId", "title", "status", "priority", "dueAt", "completedAt", "createdAt", "updatedAt"],
        [DemoTable.AuditLog] = ["id", "tenantId", "userId", "action", "entityType", "entityId", "changes", "ipAddress", "createdAt"],
        [DemoTable.Deposit] = ["id", "tenantId", "accountId", "reference", "depositDate", "totalAmount", "currency", "status", "fileName", "createdAt", "updatedAt"],
        [DemoTable.DepositLineItem] = ["id", "tenantId", "depositId", "lineNumber", "customerName", "productSku", "usageAmount", "commissionAmount", "rawData", "createdAt"],
        [DemoTable.ImportJob] = ["id", "tenantId", "userId", "kind", "status", "fileName", "totalRows", "processedRows", "errors", "startedAt", "finishedAt", "createdAt"],
        [DemoTable.RevenueSchedule] = ["id", "tenantId", "opportunityId", "productId", "scheduleDate", "expectedAmount", "actualAmount", "status", "createdAt", "updatedAt"],
        [DemoTable.Commission] = ["id", "tenantId", "revenueScheduleId", "userId", "rate", "amount", "status", "calculatedAt", "createdAt"],
        [DemoTable.Payout] = ["id", "tenantId", "commissionId", "userId", "amount", "method", "status", "paidAt", "createdAt"],
        [DemoTable.Reconciliation] = ["id", "tenantId", "depositLineItemId", "revenueScheduleId", "matchedAmount", "confidence", "matchType", "status", "reconciledById", "reconciledAt", "notes", "createdAt"],
    };

    /// <summary>The binary COPY statement for a table, with quoted identifiers (the names are PascalCase).</summary>
    public static string CopyCommand(DemoTable table) =>
        $"COPY public.\"{table}\" ({string.Join(", ", ColumnsByTable[table].Select(c => $"\"{c}\""))}) FROM STDIN (FORMAT BINARY)";

    /// <summary>Writes all rows of one tenant of one table.</summary>
    public void WriteTenant(DemoTable table, DemoRowWriter w, int t, CancellationToken ct)
    {
        var rng = DemoRandom.For(plan.Options.Seed, table, t);
        var count = plan.Count(table, t);
        for (var i = 0; i < count; i++)
        {
            if ((i & 0x3FFF) == 0) ct.ThrowIfCancellationRequested();
            w.StartRow();
            WriteRow(table, w, t, i, rng);
        }
    }

    private void WriteRow(DemoTable table, DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        switch (table)
        {
            case DemoTable.Tenant: Tenant(w, t, rng); break;
            case DemoTable.Role: Role(w, t, i); break;
            case DemoTable.RolePermission: RolePermission(w, t, i); break;
            case DemoTable.User: User(w, t, i, rng); break;
            case DemoTable.UserRole: UserRole(w, t, i, rng); break;
            case DemoTable.Account: Account(w, t, i, rng); break;
            case DemoTable.Contact: Contact(w, t, i, rng); break;
            case DemoTable.Product: Product(w, t, i, rng); break;
            case DemoTable.Opportunity: Opportunity(w, t, i, rng); break;
            case DemoTable.Activity: Activity(w, t, i, rng); break;
            case DemoTable.Note: Note(w, t, i, rng); break;
            case DemoTable.Task: Task(w, t, i, rng); break;
            case DemoTable.AuditLog: AuditLog(w, t, i, rng); break;
            case DemoTable.Deposit: Deposit(w, t, i, rng); break;
            case DemoTable.DepositLineItem: DepositLineItem(w, t, i, rng); break;
            case DemoTable.ImportJob: ImportJob(w, t, i, rng); break;
            case DemoTable.RevenueSchedule: RevenueSchedule(w, t, i, rng); break;
            case DemoTable.Commission: Commission(w, t, i, rng); break;
            case DemoTable.Payout: Payout(w, t, i, rng); break;
            case DemoTable.Reconciliation: Reconciliation(w, t, i, rng); break;
            default: throw new ArgumentOutOfRangeException(nameof(table), table, null);
        }
    }

    // ---- ids and shared helpers -------------------------------------------------------------

    /// <summary>
    /// A cuid-shaped id (25 characters, starting with 'c'). The first 13 characters encode a
    /// bijection of (table, tenant, index), so ids never collide; the rest only looks random.
    /// </summary>
    public string Cuid(DemoTable table, int tenant, long index)
    {
        var key = ((ulong)table << 56) | ((ulong)(uint)tenant << 32) | (ulong)index;
        var unique = DemoRandom.Mix(key ^ plan.SeedSalt);
        var noise = DemoRandom.Mix(unique + plan.SeedSalt);
        return string.Create(25, (unique, noise), static (chars, state) =>
        {
            chars[0] = 'c';
            Base36(state.unique, chars.Slice(1, 13));
            Base36(state.noise, chars.Slice(14, 11));
        });
    }

    private static void Base36(ulong value, Span<char> into)
    {
        const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        for (var k = into.Length - 1; k >= 0; k--)
        {
            into[k] = Digits[(int)(value % 36)];
            value /= 36;
        }
    }

    private string TenantId(int t) => Cuid(DemoTable.Tenant, t, 0);
    private string UserId(int t, int index) => Cuid(DemoTable.User, t, index);
    private string AccountId(int t, int index) => Cuid(DemoTable.Account, t, index);

    private string RandomUser(int t, DemoRandom rng) => UserId(t, rng.Next(plan.Count(DemoTable.User, t)));
    private string RandomAccount(int t, DemoRandom rng) => AccountId(t, rng.Next(plan.Count(DemoTable.Account, t)));
    private string RandomOpportunity(int t, DemoRandom rng) => Cuid(DemoTable.Opportunity, t, rng.Next(plan.Count(DemoTable.Opportunity, t)));

    /// <summary>A value fixed by (table, tenant, index) alone, for facts a child must agree on with its parent.</summary>
    private int Fixed(DemoTable table, int t, int index, int maxExclusive) =>
        (int)(DemoRandom.Hash(plan.SeedSalt, ((ulong)table << 32) | (uint)t, (ulong)index) % (ulong)maxExclusive);

    private static DateTime TenantCreated(int t) => Epoch.AddDays(t * 7 % 300).AddHours(t % 24);

    /// <summary>A moment between the tenant's creation and the end of the window, to the millisecond.</summary>
    private static DateTime Moment(int t, DemoRandom rng)
    {
        var start = TenantCreated(t);
        var span = (long)(End - start).TotalMilliseconds;
        return start.AddMilliseconds(rng.NextInt64(span));
    }

    private static DateTime After(DateTime moment, DemoRandom rng, int maxDays)
    {
        var later = moment.AddMilliseconds(rng.NextInt64(maxDays * 86_400_000L));
        return later > End ? End : later;
    }

    private static DateTime? Sometimes(DemoRandom rng, int percent, DateTime value) => rng.Chance(percent) ? value : null;

    private static decimal Money(DemoRandom rng, long minCents, long maxCents) => (minCents + rng.NextInt64(maxCents - minCents)) / 100m;

    private static string Company(int index, DemoRandom rng)
    {
        var name = Companies[index % Companies.Length];
        var suffix = rng.Pick(CompanySuffixes);
        var round = index / Companies.Length;
        return round == 0 ? $"{name} {suffix}" : string.Create(Inv, $"{name} {suffix} {round + 1}");
    }

    private static string Slug(string text)
    {
        Span<char> buffer = stackalloc char[text.Length];
        var n = 0;
        foreach (var c in text.ToLowerInvariant())
        {
            if (c is (>= 'a' and <= 'z') or (>= '0' and <= '9')) buffer[n++] = c;
            else if (n > 0 && buffer[n - 1] != '-') buffer[n++] = '-';
        }
        return new string(buffer[..n]).Trim('-');
    }

    private static string TenantSlug(int t) => string.Create(Inv, $"{Slug(Companies[t % Companies.Length])}-{t + 1}");

    private static string Sentences(DemoRandom rng, int min, int max)
    {
        var count = rng.Next(min, max + 1);
        var parts = new string[count];
        for (var k = 0; k < count; k++) parts[k] = rng.Pick(NoteSentences);
        return string.Join(' ', parts);
    }

    // ---- tables ---------------------------------------------------------------------------

    private void Tenant(DemoRowWriter w, int t, DemoRandom rng)
    {
        var created = TenantCreated(t);
        var tenantPlan = Plans[t % Plans.Length];
        w.Text(TenantId(t));
        w.Text(Company(t, rng));
        w.Text(TenantSlug(t));
        w.Text(tenantPlan);
        w.Enum(t % 11 == 10 ? "SUSPENDED" : t % 7 == 6 ? "TRIAL" : "ACTIVE");
        w.Jsonb(string.Create(Inv,
            $"{{\"timezone\": \"America/Chicago\", \"currency\": \"USD\", \"features\": {{\"reconciliation\": true, \"commissions\": {(tenantPlan == "starter" ? "false" : "true")}}}, \"fiscalYearStart\": {1 + t % 12}}}"));
        w.Timestamp(created);
        w.Timestamp(After(created, rng, 400));
        w.Int(tenantPlan == "enterprise" ? 2555 : 365);
    }

    private void Role(DemoRowWriter w, int t, int i)
    {
        w.Int(checked((int)plan.IntId(DemoTable.Role, t, i)));
        w.Text(TenantId(t));
        w.Text(DemoPlan.RoleNames[i]);
        w.Text(i == DemoPlan.RoleNames.Length - 1 ? null : $"Built-in role: {DemoPlan.RoleNames[i]}");
        w.Bool(i == 0);
        w.Timestamp(TenantCreated(t));
    }

    private void RolePermission(DemoRowWriter w, int t, int i)
    {
        // Row i walks role by role through each role's granted permissions.
        var role = 0;
        var within = i;
        while (within >= DemoPlan.PermissionsOfRole(role))
        {
            within -= DemoPlan.PermissionsOfRole(role);
            role++;
        }
        w.Text(TenantId(t));
        w.Int(checked((int)plan.IntId(DemoTable.Role, t, role)));
        w.Int(within + 1);
        w.Timestamp(TenantCreated(t).AddMinutes(5));
    }

    private void User(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var first = rng.Pick(FirstNames);
        var last = rng.Pick(LastNames);
        var roll = rng.Next(100);
        var status = i == 0 ? "ACTIVE" : roll switch { < 80 => "ACTIVE", < 88 => "INVITED", < 92 => "SUSPENDED", < 96 => "DISABLED", _ => "LOCKED" };
        var created = i == 0 ? TenantCreated(t) : Moment(t, rng);
        w.Text(UserId(t, i));
        w.Text(TenantId(t));
        w.Text(string.Create(Inv, $"{first.Ascii}.{last.Ascii}.{i + 1}@{TenantSlug(t)}.example.com"));
        w.Text($"{first.Display} {last.Display}");
        w.Enum(status);
        w.Text(status == "INVITED" ? null : $"$argon2id$v=19$m=65536,t=3,p=4${Cuid(DemoTable.User, t, i + 1_000_000)}");
        w.Timestamp(status == "INVITED" ? null : After(created, rng, 300));
        w.Jsonb(string.Create(Inv,
            $"{{\"locale\": \"{(rng.Chance(80) ? "en-US" : "fr-CA")}\", \"theme\": \"{(rng.Chance(50) ? "dark" : "light")}\", \"notifications\": {{\"email\": {(rng.Chance(70) ? "true" : "false")}, \"digest\": \"weekly\"}}}}"));
        w.Timestamp(created);
        w.Timestamp(After(created, rng, 200));
        w.Timestamp(i != 0 && rng.Chance(3) ? After(created, rng, 300) : null);
    }

    private void UserRole(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var role = i == 0 ? 0 : 1 + rng.Next(DemoPlan.RoleNames.Length - 1);
        w.Text(TenantId(t));
        w.Text(UserId(t, i));
        w.Int(checked((int)plan.IntId(DemoTable.Role, t, role)));
        w.Timestamp(Moment(t, rng));
    }

    private void Account(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var name = Company(i, rng);
        var created = Moment(t, rng);
        w.Text(AccountId(t, i));
        w.Text(TenantId(t));
        w.Text(name);
        w.Enum(rng.Pick(AccountTypes));
        w.Text(rng.Chance(90) ? rng.Pick(Industries) : null);
        w.Text(rng.Chance(80) ? $"https://www.{Slug(name)}.example" : null);
        w.Text(rng.Chance(95) ? RandomUser(t, rng) : null);
        w.Text(i >= 5 && rng.Chance(10) ? AccountId(t, rng.Next(i)) : null);
        w.Jsonb(rng.Chance(85)
            ? string.Create(Inv, $"{{\"street\": \"{100 + rng.Next(9900)} Main St\", \"city\": \"{rng.Pick(Cities)}\", \"postalCode\": \"{10000 + rng.Next(89999)}\", \"country\": \"US\"}}")
            : null);
        w.Numeric(rng.Chance(80) ? Money(rng, 10_000_00, 900_000_000_00) : null);
        w.Timestamp(created);
        w.Timestamp(After(created, rng, 120));
        w.Timestamp(rng.Chance(4) ? After(created, rng, 300) : null);
    }

    private void Contact(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var accounts = plan.Count(DemoTable.Account, t);
        var first = rng.Pick(FirstNames);
        var last = rng.Pick(LastNames);
        var created = Moment(t, rng);
        w.Text(Cuid(DemoTable.Contact, t, i));
        w.Text(TenantId(t));
        w.Text(AccountId(t, i % accounts));
        w.Text(first.Display);
        w.Text(last.Display);
        w.Text(rng.Chance(90) ? string.Create(Inv, $"{first.Ascii}.{last.Ascii}{i + 1}@customer{i % accounts + 1}.example.org") : null);
        w.Text(rng.Chance(70) ? string.Create(Inv, $"+1-{200 + rng.Next(800)}-555-{rng.Next(10000):D4}") : null);
        w.Text(rng.Chance(85) ? rng.Pick(Titles) : null);
        w.Bool(i < accounts);
        w.Timestamp(created);
        w.Timestamp(After(created, rng, 90));
        w.Timestamp(rng.Chance(3) ? After(created, rng, 300) : null);
    }

    private void Product(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        w.Int(checked((int)plan.IntId(DemoTable.Product, t, i)));
        w.Text(TenantId(t));
        w.Text(string.Create(Inv, $"SKU-{t + 1:D3}-{i + 1:D5}"));
        w.Text(ProductNames[i % ProductNames.Length]);
        w.Text(rng.Pick(ProductCategories));
        w.Numeric(Money(rng, 1_00, 25_000_00));
        w.Numeric((500 + rng.Next(2500)) / 10000m);
        w.Bool(rng.Chance(90));
        w.Jsonb(rng.Chance(70)
            ? string.Create(Inv, $"{{\"termMonths\": {12 * (1 + rng.Next(5))}, \"bandwidthMbps\": {50 * (1 + rng.Next(40))}, \"supplier\": \"{rng.Pick(Companies)}\"}}")
            : null);
        w.Timestamp(TenantCreated(t).AddDays(1 + i % 30));
    }

    private void Opportunity(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var stage = rng.Pick(Stages);
        var probability = stage switch
        {
            "QUALIFICATION" => 10, "DISCOVERY" => 25, "PROPOSAL" => 50, "NEGOTIATION" => 75, "CLOSED_WON" => 100, _ => 0,
        };
        var created = Moment(t, rng);
        var closed = stage.StartsWith("CLOSED", StringComparison.Ordinal);
        var products = plan.Count(DemoTable.Product, t);
        w.Text(Cuid(DemoTable.Opportunity, t, i));
        w.Text(TenantId(t));
        w.Text(RandomAccount(t, rng));
        w.Text(RandomUser(t, rng));
        w.Int(rng.Chance(90) ? checked((int)plan.IntId(DemoTable.Product, t, rng.Next(products))) : null);
        w.Text(string.Create(Inv, $"{rng.Pick(ProductCategories)} deal {created.Year}-{i + 1}"));
        w.Enum(stage);
        w.Numeric(Money(rng, 500_00, 2_500_000_00));
        w.Int(probability);
        w.Date(closed || rng.Chance(50) ? DateOnly.FromDateTime(After(created, rng, 180)) : null);
        w.Timestamp(created);
        w.Timestamp(After(created, rng, 60));
        w.Timestamp(rng.Chance(2) ? After(created, rng, 300) : null);
    }

    private void Activity(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var type = rng.Pick(ActivityTypes);
        var occurred = Moment(t, rng);
        w.BigInt(plan.IntId(DemoTable.Activity, t, i));
        w.Text(TenantId(t));
        w.Enum(type);
        w.Text(rng.Pick(ActivitySubjects));
        w.Text(RandomUser(t, rng));
        w.Text(rng.Chance(85) ? RandomAccount(t, rng) : null);
        w.Text(rng.Chance(60) ? Cuid(DemoTable.Contact, t, rng.Next(plan.Count(DemoTable.Contact, t))) : null);
        w.Text(rng.Chance(50) ? RandomOpportunity(t, rng) : null);
        w.Timestamp(occurred);
        w.Int(type == "EMAIL" ? null : 5 + rng.Next(115));
        w.Jsonb(string.Create(Inv,
            $"{{\"source\": \"{(rng.Chance(70) ? "web" : "mobile")}\", \"outcome\": \"{(rng.Chance(60) ? "connected" : "left-message")}\", \"sentiment\": {rng.Next(-2, 3)}, \"tags\": [\"q{1 + occurred.Month / 4}\", \"{rng.Pick(ProductCategories)}\"]}}"));
        w.Timestamp(occurred.AddSeconds(rng.Next(3600)));
    }

    private void Note(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var created = Moment(t, rng);
        w.Text(Cuid(DemoTable.Note, t, i));
        w.Text(TenantId(t));
        w.Text(RandomUser(t, rng));
        w.Text(rng.Chance(80) ? RandomAccount(t, rng) : null);
        w.Text(rng.Chance(50) ? RandomOpportunity(t, rng) : null);
        w.Text(Sentences(rng, 2, 8));
        w.Bool(rng.Chance(5));
        w.Timestamp(created);
        w.Timestamp(After(created, rng, 30));
    }

    private void Task(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var roll = rng.Next(100);
        var status = roll switch { < 35 => "OPEN", < 50 => "IN_PROGRESS", < 90 => "DONE", _ => "CANCELLED" };
        var created = Moment(t, rng);
        w.Text(Cuid(DemoTable.Task, t, i));
        w.Text(TenantId(t));
        w.Text(RandomUser(t, rng));
        w.Text(rng.Chance(70) ? RandomOpportunity(t, rng) : null);
        w.Text(rng.Pick(TaskTitles));
        w.Enum(status);
        w.Enum(rng.Pick(Priorities));
        w.Timestamp(Sometimes(rng, 80, After(created, rng, 30)));
        w.Timestamp(status == "DONE" ? After(created, rng, 45) : null);
        w.Timestamp(created);
        w.Timestamp(After(created, rng, 45));
    }

    private void AuditLog(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var action = rng.Pick(AuditActions);
        var entity = rng.Pick(AuditEntities);
        w.BigInt(plan.IntId(DemoTable.AuditLog, t, i));
        w.Text(TenantId(t));
        w.Text(rng.Chance(95) ? RandomUser(t, rng) : null);
        w.Text(action);
        w.Text(entity);
        w.Text(Cuid(DemoTable.AuditLog, t, rng.Next(1_000_000)));
        w.Jsonb(action is "login" or "export"
            ? null
            : string.Create(Inv,
                $"{{\"before\": {{\"status\": \"{(rng.Chance(50) ? "OPEN" : "PENDING")}\", \"amount\": {rng.Next(100000)}.{rng.Next(100):D2}}}, \"after\": {{\"status\": \"{(rng.Chance(50) ? "WON" : "MATCHED")}\", \"amount\": {rng.Next(100000)}.{rng.Next(100):D2}}}, \"reason\": \"{rng.Pick(ActivitySubjects)}\"}}"));
        w.Text(rng.Chance(90) ? string.Create(Inv, $"10.{rng.Next(256)}.{rng.Next(256)}.{rng.Next(1, 255)}") : null);
        w.Timestamp(Moment(t, rng));
    }

    private void Deposit(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var created = Moment(t, rng);
        var roll = rng.Next(100);
        w.Text(Cuid(DemoTable.Deposit, t, i));
        w.Text(TenantId(t));
        w.Text(AccountId(t, i * 7 % plan.Count(DemoTable.Account, t)));
        w.Text(string.Create(Inv, $"DEP-{t + 1:D3}-{i + 1:D6}"));
        w.Date(DateOnly.FromDateTime(created));
        w.Numeric(Money(rng, 1_000_00, 500_000_00));
        w.Char(rng.Chance(90) ? "USD" : rng.Chance(50) ? "EUR" : "CAD");
        w.Enum(roll switch { < 10 => "PENDING", < 20 => "PROCESSING", < 95 => "RECONCILED", _ => "DISPUTED" });
        w.Text(rng.Chance(80) ? string.Create(Inv, $"statement_{created:yyyy_MM}_{i + 1}.csv") : null);
        w.Timestamp(created);
        w.Timestamp(After(created, rng, 20));
    }

    private void DepositLineItem(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var deposits = plan.Count(DemoTable.Deposit, t);
        var products = plan.Count(DemoTable.Product, t);
        var usage = Money(rng, 10_00, 50_000_00);
        var sku = rng.Chance(90) ? string.Create(Inv, $"SKU-{t + 1:D3}-{rng.Next(products) + 1:D5}") : null;
        var customer = Company(rng.Next(plan.Count(DemoTable.Account, t)), rng);
        w.Int(checked((int)plan.IntId(DemoTable.DepositLineItem, t, i)));
        w.Text(TenantId(t));
        w.Text(Cuid(DemoTable.Deposit, t, i % deposits));
        w.Int(i / deposits + 1);
        w.Text(customer);
        w.Text(sku);
        w.Numeric(usage);
        w.Numeric(Math.Round(usage * (500 + rng.Next(2000)) / 10000m, 2));
        w.Jsonb(string.Create(Inv,
            $"{{\"row\": {i / deposits + 2}, \"Customer Name\": \"{customer}\", \"Product\": \"{sku ?? "UNKNOWN"}\", \"Usage\": \"{usage}\", \"Period\": \"2025-{1 + i % 12:D2}\"}}"));
        w.Timestamp(Moment(t, rng));
    }

    private void ImportJob(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var roll = rng.Next(100);
        var status = roll switch { < 5 => "QUEUED", < 10 => "RUNNING", < 90 => "SUCCEEDED", _ => "FAILED" };
        var created = Moment(t, rng);
        var total = 10 + rng.Next(5000);
        var started = status == "QUEUED" ? (DateTime?)null : created.AddSeconds(rng.Next(60));
        w.Text(Cuid(DemoTable.ImportJob, t, i));
        w.Text(TenantId(t));
        w.Text(RandomUser(t, rng));
        w.Enum(rng.Pick(ImportKinds));
        w.Enum(status);
        w.Text(string.Create(Inv, $"import_{i + 1}.csv"));
        w.Int(total);
        w.Int(status switch { "SUCCEEDED" => total, "QUEUED" => 0, _ => rng.Next(total) });
        w.Jsonb(status == "FAILED" ? string.Create(Inv, $"[{{\"row\": {rng.Next(total)}, \"message\": \"Unknown product SKU\"}}]") : null);
        w.Timestamp(started);
        w.Timestamp(status is "SUCCEEDED" or "FAILED" ? started!.Value.AddSeconds(5 + rng.Next(600)) : null);
        w.Timestamp(created);
    }

    private void RevenueSchedule(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var opportunities = plan.Count(DemoTable.Opportunity, t);
        var products = plan.Count(DemoTable.Product, t);
        var month = i / opportunities;
        var date = new DateOnly(2024, 1, 1).AddMonths((Fixed(DemoTable.Opportunity, t, i % opportunities, 12) + month) % 24);
        var roll = rng.Next(100);
        var status = roll switch { < 30 => "PROJECTED", < 45 => "INVOICED", < 60 => "RECEIVED", < 95 => "RECONCILED", _ => "WRITTEN_OFF" };
        var expected = Money(rng, 50_00, 20_000_00);
        var created = Moment(t, rng);
        w.Text(Cuid(DemoTable.RevenueSchedule, t, i));
        w.Text(TenantId(t));
        w.Text(Cuid(DemoTable.Opportunity, t, i % opportunities));
        w.Int(rng.Chance(85) ? checked((int)plan.IntId(DemoTable.Product, t, rng.Next(products))) : null);
        w.Date(date);
        w.Numeric(expected);
        w.Numeric(status == "PROJECTED" ? null : Math.Round(expected * (80 + rng.Next(41)) / 100m, 2));
        w.Enum(status);
        w.Timestamp(created);
        w.Timestamp(After(created, rng, 60));
    }

    private string CommissionUser(int t, int index) => UserId(t, Fixed(DemoTable.Commission, t, index, plan.Count(DemoTable.User, t)));

    private void Commission(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var rate = (300 + rng.Next(1700)) / 10000m;
        var roll = rng.Next(100);
        var calculated = Moment(t, rng);
        w.Text(Cuid(DemoTable.Commission, t, i));
        w.Text(TenantId(t));
        w.Text(Cuid(DemoTable.RevenueSchedule, t, i));
        w.Text(CommissionUser(t, i));
        w.Numeric(rate);
        w.Numeric(Math.Round(Money(rng, 50_00, 20_000_00) * rate, 2));
        w.Enum(roll switch { < 20 => "PENDING", < 45 => "APPROVED", < 97 => "PAID", _ => "CLAWED_BACK" });
        w.Timestamp(calculated);
        w.Timestamp(calculated.AddMilliseconds(rng.Next(5000)));
    }

    private void Payout(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var roll = rng.Next(100);
        var status = roll switch { < 10 => "SCHEDULED", < 97 => "SENT", _ => "FAILED" };
        var created = Moment(t, rng);
        w.Int(checked((int)plan.IntId(DemoTable.Payout, t, i)));
        w.Text(TenantId(t));
        w.Text(Cuid(DemoTable.Commission, t, i));
        w.Text(CommissionUser(t, i));
        w.Numeric(Money(rng, 5_00, 4_000_00));
        w.Text(rng.Chance(85) ? "ach" : "wire");
        w.Enum(status);
        w.Timestamp(status == "SENT" ? After(created, rng, 10) : null);
        w.Timestamp(created);
    }

    private void Reconciliation(DemoRowWriter w, int t, int i, DemoRandom rng)
    {
        var roll = rng.Next(100);
        var matchType = roll switch { < 60 => "EXACT", < 90 => "FUZZY", _ => "MANUAL" };
        var status = rng.Next(100) switch { < 15 => "SUGGESTED", < 95 => "MATCHED", _ => "REJECTED" };
        var created = Moment(t, rng);
        w.Text(Cuid(DemoTable.Reconciliation, t, i));
        w.Text(TenantId(t));
        w.Int(checked((int)plan.IntId(DemoTable.DepositLineItem, t, i)));
        w.Text(rng.Chance(90) ? Cuid(DemoTable.RevenueSchedule, t, rng.Next(plan.Count(DemoTable.RevenueSchedule, t))) : null);
        w.Numeric(Money(rng, 1_00, 10_000_00));
        w.Numeric(matchType == "MANUAL" ? null : (5000 + rng.Next(5001)) / 10000m);
        w.Enum(matchType);
        w.Enum(status);
        w.Text(status == "SUGGESTED" ? null : RandomUser(t, rng));
        w.Timestamp(status == "SUGGESTED" ? null : After(created, rng, 14));
        w.Text(rng.Chance(20) ? rng.Pick(NoteSentences) : null);
        w.Timestamp(created);
    }
}
