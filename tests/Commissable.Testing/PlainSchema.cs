namespace Commissable.Testing;

/// <summary>
/// A schema that is not the demo's, as older and hand-written schemas are: no tenant column, and
/// sequences drawn through plain <c>nextval</c> defaults with no <c>OWNED BY</c> (so no column owns
/// them). Two tables, <c>invoice</c> (20 rows) and <c>invoice_line</c> (50 rows).
/// </summary>
public static class PlainSchema
{
    public const string Sql = """
        CREATE SEQUENCE invoice_seq;
        CREATE SEQUENCE line_seq;
        CREATE TABLE invoice (id bigint PRIMARY KEY DEFAULT nextval('invoice_seq'), customer text NOT NULL);
        CREATE TABLE invoice_line (id integer PRIMARY KEY DEFAULT nextval('line_seq'), invoice_id bigint NOT NULL REFERENCES invoice, amount numeric NOT NULL);
        INSERT INTO invoice (customer) SELECT 'customer ' || g FROM generate_series(1, 20) g;
        INSERT INTO invoice_line (invoice_id, amount) SELECT 1 + g % 20, g FROM generate_series(1, 50) g;
        """;

    /// <summary>What the tenant check says of a database without the tenant column.</summary>
    public const string TenantsNotApplicable = "not applicable: no table has the tenant column \"tenantId\" in the backup nor the restore";
}
