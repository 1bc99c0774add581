namespace Commissable.LocalCloud.Api;

/// <summary>
/// The request bodies of the Cloud SQL Admin API v1beta4 methods the local cloud serves, as far as
/// it reads them (field names and types from contracts/sqladmin.v1beta4.json). Request messages
/// are closed, so a misspelt field is a 400 as on Google; the instance resource is open because
/// the local cloud keeps fields it has no use for as clients set them.
/// </summary>
internal static class RequestShapes
{
    private static readonly Shape BackupConfiguration = Shape.Object(open: true,
        ("enabled", Shape.Bool),
        ("pointInTimeRecoveryEnabled", Shape.Bool),
        ("startTime", Shape.String),
        ("transactionLogRetentionDays", Shape.Int32),
        ("backupRetentionSettings", Shape.Object(open: true, ("retainedBackups", Shape.Int32), ("retentionUnit", Shape.String))));

    public static readonly Shape Instance = Shape.Object(open: true,
        ("name", Shape.String),
        ("project", Shape.String),
        ("databaseVersion", Shape.String),
        ("rootPassword", Shape.String),
        ("region", Shape.String),
        ("gceZone", Shape.String),
        ("instanceType", Shape.String),
        ("serviceAccountEmailAddress", Shape.String),
        ("settings", Shape.Object(open: true,
            ("tier", Shape.String),
            ("activationPolicy", Shape.String),
            ("settingsVersion", Shape.Int64),
            ("userLabels", Shape.Map(Shape.String)),
            ("backupConfiguration", BackupConfiguration))));

    public static readonly Shape Export = Shape.Object(open: false, ("exportContext", Shape.Object(open: false,
        ("kind", Shape.String),
        ("fileType", Shape.String),
        ("uri", Shape.String),
        ("databases", Shape.List(Shape.String)),
        ("offload", Shape.Bool),
        ("sqlExportOptions", Shape.Object(open: false,
            ("tables", Shape.List(Shape.String)),
            ("schemaOnly", Shape.Bool),
            ("parallel", Shape.Bool),
            ("threads", Shape.Int32),
            ("mysqlExportOptions", Shape.AnyObject),
            ("postgresExportOptions", Shape.Object(open: false, ("clean", Shape.Bool), ("ifExists", Shape.Bool))))),
        ("csvExportOptions", Shape.AnyObject),
        ("bakExportOptions", Shape.AnyObject),
        ("tdeExportOptions", Shape.AnyObject))));

    public static readonly Shape Import = Shape.Object(open: false, ("importContext", Shape.Object(open: false,
        ("kind", Shape.String),
        ("fileType", Shape.String),
        ("uri", Shape.String),
        ("database", Shape.String),
        ("importUser", Shape.String),
        ("sqlImportOptions", Shape.Object(open: false,
            ("parallel", Shape.Bool),
            ("threads", Shape.Int32),
            ("postgresImportOptions", Shape.Object(open: false, ("clean", Shape.Bool), ("ifExists", Shape.Bool))))),
        ("csvImportOptions", Shape.AnyObject),
        ("bakImportOptions", Shape.AnyObject),
        ("tdeImportOptions", Shape.AnyObject))));

    public static readonly Shape Clone = Shape.Object(open: false, ("cloneContext", Shape.Object(open: false,
        ("kind", Shape.String),
        ("destinationInstanceName", Shape.String),
        ("pointInTime", Shape.String),
        ("pitrTimestampMs", Shape.Int64),
        ("databaseNames", Shape.List(Shape.String)),
        ("destinationProject", Shape.String),
        ("destinationNetwork", Shape.String),
        ("allocatedIpRange", Shape.String),
        ("preferredZone", Shape.String),
        ("preferredSecondaryZone", Shape.String),
        ("sourceInstanceDeletionTime", Shape.String),
        ("binLogCoordinates", Shape.AnyObject))));

    public static readonly Shape RestoreBackup = Shape.Object(open: false,
        ("restoreBackupContext", Shape.Object(open: false,
            ("kind", Shape.String),
            ("backupRunId", Shape.Int64),
            ("instanceId", Shape.String),
            ("project", Shape.String))),
        ("backup", Shape.String),
        ("backupdrBackup", Shape.String),
        ("restoreInstanceClearOverridesFieldNames", Shape.List(Shape.String)),
        ("restoreInstanceSettings", Shape.AnyObject));

    public static readonly Shape Database = Shape.Object(open: false,
        ("kind", Shape.String),
        ("name", Shape.String),
        ("charset", Shape.String),
        ("collation", Shape.String),
        ("etag", Shape.String),
        ("instance", Shape.String),
        ("project", Shape.String),
        ("selfLink", Shape.String),
        ("sqlserverDatabaseDetails", Shape.AnyObject));

    public static readonly Shape User = Shape.Object(open: false,
        ("kind", Shape.String),
        ("name", Shape.String),
        ("password", Shape.String),
        ("host", Shape.String),
        ("etag", Shape.String),
        ("instance", Shape.String),
        ("project", Shape.String),
        ("type", Shape.String),
        ("iamEmail", Shape.String),
        ("iamStatus", Shape.String),
        ("dualPasswordType", Shape.String),
        ("databaseRoles", Shape.List(Shape.String)),
        ("passwordPolicy", Shape.AnyObject),
        ("sqlserverUserDetails", Shape.AnyObject));

    public static readonly Shape BackupRun = Shape.Object(open: false,
        ("kind", Shape.String),
        ("id", Shape.Int64),
        ("description", Shape.String),
        ("instance", Shape.String),
        ("location", Shape.String),
        ("type", Shape.String),
        ("backupKind", Shape.String),
        ("status", Shape.String),
        ("databaseVersion", Shape.String),
        ("timeZone", Shape.String),
        ("selfLink", Shape.String),
        ("enqueuedTime", Shape.String),
        ("startTime", Shape.String),
        ("endTime", Shape.String),
        ("windowStartTime", Shape.String),
        ("maxChargeableBytes", Shape.Int64),
        ("error", Shape.AnyObject),
        ("diskEncryptionConfiguration", Shape.AnyObject),
        ("diskEncryptionStatus", Shape.AnyObject));
}
