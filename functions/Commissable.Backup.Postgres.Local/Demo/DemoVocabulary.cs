namespace Commissable.Backup.Postgres.Demo;

/// <summary>
/// Words the demo data is made of. Some carry non-ASCII letters on purpose: a backup that mangles
/// encodings must show up as a hash mismatch. None contains a double quote or a backslash, so the
/// JSON built from them needs no escaping.
/// </summary>
internal static class DemoVocabulary
{
    public static readonly string[] Companies =
    [
        "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Cyberdyne",
        "Tyrell", "Wonka", "Nordwind", "Müller", "Ørsted", "Bluth", "Pied Piper", "Dunder Mifflin", "Aperture", "Monarch",
        "Oceanic", "Massive Dynamic", "Gringotts", "Sirius", "Zorg", "Nakatomi", "Kōgyō", "São Tomé", "Łódź", "Prestige",
    ];

    public static readonly string[] CompanySuffixes =
        ["Corp", "Inc", "GmbH", "LLC", "Ltd", "Partners", "Systems", "Networks", "Telecom", "Logistics", "Holdings", "Solutions"];

    public static readonly string[] Industries =
        ["Telecommunications", "Cloud Services", "Managed Security", "Unified Communications", "Data Center", "SD-WAN", "Connectivity", "Mobility", "IoT", "Consulting"];

    public static readonly (string Display, string Ascii)[] FirstNames =
    [
        ("Ana", "ana"), ("Ben", "ben"), ("Chloé", "chloe"), ("David", "david"), ("Elif", "elif"), ("Fatima", "fatima"),
        ("Grace", "grace"), ("Hiroshi", "hiroshi"), ("Ines", "ines"), ("José", "jose"), ("Kwame", "kwame"), ("Li", "li"),
        ("Maria", "maria"), ("Noah", "noah"), ("Olga", "olga"), ("Priya", "priya"), ("Quinn", "quinn"), ("Rafael", "rafael"),
        ("Søren", "soren"), ("Tomasz", "tomasz"), ("Uma", "uma"), ("Valentina", "valentina"), ("Wei", "wei"), ("Zoë", "zoe"),
    ];

    public static readonly (string Display, string Ascii)[] LastNames =
    [
        ("Anderson", "anderson"), ("Brown", "brown"), ("Chen", "chen"), ("Dubois", "dubois"), ("García", "garcia"),
        ("Hernández", "hernandez"), ("Ivanova", "ivanova"), ("Johnson", "johnson"), ("Kowalski", "kowalski"), ("Lee", "lee"),
        ("Müller", "muller"), ("Nakamura", "nakamura"), ("O'Brien", "obrien"), ("Patel", "patel"), ("Rossi", "rossi"),
        ("Smith", "smith"), ("Tanaka", "tanaka"), ("Nguyễn", "nguyen"), ("Williams", "williams"), ("Yılmaz", "yilmaz"),
    ];

    public static readonly string[] Titles =
        ["CEO", "CFO", "CTO", "VP Sales", "IT Director", "Procurement Manager", "Network Engineer", "Office Manager", "Controller", "Operations Lead"];

    public static readonly string[] ProductCategories =
        ["Fiber", "Broadband", "Voice", "UCaaS", "CCaaS", "SD-WAN", "Security", "Colocation", "Cloud", "Mobility"];

    public static readonly string[] ProductNames =
        ["Dedicated Internet 1G", "Business Broadband 500", "SIP Trunk", "Hosted PBX Seat", "Contact Center Agent", "SD-WAN Edge", "Managed Firewall", "Half Rack", "Backup as a Service", "Fleet Mobile Plan", "MPLS Port", "DDoS Protection"];

    public static readonly string[] ActivitySubjects =
        ["Intro call", "Pricing follow-up", "Quarterly business review", "Demo of the portal", "Contract redlines", "Renewal check-in", "Site survey", "Escalation about billing", "Commission dispute", "Onboarding kickoff"];

    public static readonly string[] NoteSentences =
    [
        "Customer asked for a revised quote with a 36-month term.",
        "Discussed renewal timing; budget is approved for next quarter.",
        "The supplier statement did not match our revenue schedule for March.",
        "Decision maker is the CFO; IT only evaluates the technical fit.",
        "Sent the master agreement for legal review.",
        "Commission rate confirmed at the tier negotiated last year.",
        "They are comparing us with two other providers.",
        "Install date slipped by two weeks because of a permit.",
        "Usage on the deposit is higher than forecast – check the rate.",
        "Follow up after the holidays; champion is out of office.",
        "Café meeting went well, strong interest in SD-WAN.",
        "Requested references from customers in the same industry.",
    ];

    public static readonly string[] TaskTitles =
        ["Send proposal", "Schedule demo", "Chase signed contract", "Reconcile March deposit", "Update forecast", "Review commission statement", "Call back about invoice", "Prepare QBR deck"];

    public static readonly string[] AuditActions = ["create", "update", "delete", "login", "export", "import"];

    public static readonly string[] AuditEntities = ["Account", "Contact", "Opportunity", "Deposit", "Reconciliation", "RevenueSchedule", "Commission", "User"];

    public static readonly string[] Cities =
        ["Austin", "Denver", "Chicago", "Toronto", "London", "München", "Kraków", "São Paulo", "Zürich", "Montréal", "Tokyo", "Dublin"];
}
