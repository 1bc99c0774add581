using System.Globalization;
using Commissable.Backup.Core.Backups;

namespace Commissable.Backup.Core.Retention;

/// <summary>
/// The retention policy as a pure function: the policy, the time and the catalog in; a plan out.
/// No I/O and no clock, so the same input always gives the same plan (entries in name order).
/// The sweeper lists the catalog, asks for a plan, then carries out its deletions (or, on a dry
/// run, only logs them).
/// </summary>
/// <remarks>
/// Rules, first match decides: not named as a backup under the prefix (ignored); automated backup
/// run (Cloud SQL's); on hold; younger than the minimum age; orphan (deleted only with
/// <see cref="RetentionPolicy.DeleteOrphans"/>); unknown kind; the newest verified backup of its
/// instance; then the per-kind age rules with their keeps. Last, the share rail: a plan that would
/// delete more than <see cref="RetentionPolicy.MaxDeleteShare"/> of the backups deletes nothing.
/// </remarks>
public static class RetentionPlanner
{
    public static RetentionPlan Plan(RetentionPolicy policy, DateTimeOffset now, IEnumerable<RetentionCandidate> catalog)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(catalog);
        if (policy.Problems() is { Count: > 0 } problems)
        {
            throw new ArgumentException("The retention policy is not valid: " + string.Join(" ", problems), nameof(policy));
        }
        var entries = catalog.OrderBy(e => e?.Name, StringComparer.Ordinal).ToList();
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i] is null) throw new ArgumentException("The catalog holds a null entry.", nameof(catalog));
            if (i > 0 && entries[i].Name == entries[i - 1].Name)
            {
                throw new ArgumentException($"The catalog lists '{entries[i].Name}' twice; each backup name appears once.", nameof(catalog));
            }
        }

        var context = new Context(policy, now, entries);
        var decisions = new List<RetentionDecision>(entries.Count);
        var orphans = new List<OrphanFinding>();
        foreach (var entry in entries)
        {
            var backup = context.Backup(entry);
            if (backup is not null && Orphan(entry, now, policy) is { } orphan) orphans.Add(orphan);
            decisions.Add(Decide(context, entry, backup));
        }

        var refusal = ShareRail(policy, context.BackupCount, decisions);
        if (refusal is not null)
        {
            decisions = decisions.Select(d => d.Action == RetentionAction.Keep ? d : d with
            {
                Action = RetentionAction.Keep,
                Reason = new(RetentionReasons.DeleteShareExceeded, $"Would be deleted ({d.Reason.Text}), but this run deletes nothing: {refusal.Text}"),
                Steps = [],
            }).ToList();
        }
        return new RetentionPlan(policy, now, decisions, orphans, refusal);
    }

    private static RetentionDecision Decide(Context context, RetentionCandidate entry, BackupObjectName? backup)
    {
        var policy = context.Policy;
        if (backup is null)
        {
            return Keep(entry, null, RetentionReasons.NotABackup,
                $"Not a backup, ignored: outside the prefix '{policy.Prefix.TrimEnd('/')}/' or not named as backup_YYYYMMDD_HHmm_<env>_<label>.");
        }
        var age = context.Now - entry.Created;
        var where = $"{backup.Environment}/{backup.Instance}";
        if (entry.Kind == BackupKind.AutomatedBackupRun)
        {
            return Keep(entry, backup, RetentionReasons.ManagedByCloudSql, "An automated backup run: Cloud SQL retires it by the instance's own retention setting.");
        }
        if (entry.OnHold)
        {
            return Keep(entry, backup, RetentionReasons.OnHold, "On hold: never deleted until every hold is released.");
        }
        if (age < policy.MinimumAge)
        {
            var text = $"{Describe(age)} old, younger than MinimumAge {Describe(policy.MinimumAge)}: nothing that young is deleted";
            return Keep(entry, backup, RetentionReasons.TooYoung, entry.HasManifest ? text + "." : text + " (without a manifest it may still be being written).");
        }
        if (!entry.IsComplete)
        {
            return policy.DeleteOrphans
                ? Delete(entry, backup, RetentionReasons.OrphanDeleted, $"An orphan {Describe(age)} old ({OrphanWords(entry)}), deleted because DeleteOrphans is on.")
                : Keep(entry, backup, RetentionReasons.OrphanKept, $"An orphan {Describe(age)} old ({OrphanWords(entry)}), kept because DeleteOrphans is off; see the orphan findings.");
        }
        if (entry.Kind == BackupKind.Unknown)
        {
            return Keep(entry, backup, RetentionReasons.UnknownKind, "Its manifest records a kind this sweeper does not know, so no retention rule applies to it.");
        }
        if (context.IsNewestVerified(entry))
        {
            return Keep(entry, backup, RetentionReasons.NewestVerified,
                $"The newest backup of {where} whose last restore test passed ({entry.LastVerification!.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC).");
        }
        if (entry.Kind == BackupKind.PreDeployExport)
        {
            if (context.PreDeployRank(entry) is { } rank)
            {
                return Keep(entry, backup, RetentionReasons.LastPreDeploy,
                    string.Create(CultureInfo.InvariantCulture, $"One of the last {policy.KeepLastPreDeploy} pre-deploy exports of {where} (number {rank}, newest first)."));
            }
            return age > policy.PreDeployMaxAge
                ? Delete(entry, backup, RetentionReasons.PreDeployExpired,
                    string.Create(CultureInfo.InvariantCulture, $"A pre-deploy export {Describe(age)} old, older than PreDeployMaxAge {Describe(policy.PreDeployMaxAge)}, and not one of the last {policy.KeepLastPreDeploy} of {where}."))
                : Keep(entry, backup, RetentionReasons.WithinMaxAge, $"A pre-deploy export {Describe(age)} old, within PreDeployMaxAge {Describe(policy.PreDeployMaxAge)}.");
        }
        var what = entry.Kind == BackupKind.ScheduledExport ? "A scheduled export" : "An on-demand backup run";
        if (age <= policy.MaxAge)
        {
            return Keep(entry, backup, RetentionReasons.WithinMaxAge, $"{what} {Describe(age)} old, within MaxAge {Describe(policy.MaxAge)}.");
        }
        if (context.WeeklyKeep(entry) is { } week)
        {
            return Keep(entry, backup, RetentionReasons.Weekly,
                string.Create(CultureInfo.InvariantCulture, $"The newest backup of {where} in ISO week {week} (KeepWeekly {policy.KeepWeekly})."));
        }
        if (context.MonthlyKeep(entry) is { } month)
        {
            return Keep(entry, backup, RetentionReasons.Monthly,
                string.Create(CultureInfo.InvariantCulture, $"The newest backup of {where} in {month} (KeepMonthly {policy.KeepMonthly})."));
        }
        return Delete(entry, backup, RetentionReasons.Expired, $"{what} {Describe(age)} old, older than MaxAge {Describe(policy.MaxAge)}, with no weekly or monthly keep.");
    }

    private static RetentionDecision Keep(RetentionCandidate entry, BackupObjectName? backup, string code, string text) =>
        new(entry, backup, RetentionAction.Keep, new(code, text), []);

    /// <summary>
    /// A deletion, with its steps: manifest, verification records, then the data. An entry that
    /// lists an object outside its own name is kept: the plan never names an object that is not
    /// the backup's, whatever the caller passed in.
    /// </summary>
    private static RetentionDecision Delete(RetentionCandidate entry, BackupObjectName? backup, string code, string text)
    {
        var steps = new List<DeletionStep>();
        if (entry.HasManifest) steps.Add(DeletionStep.ForObject(DeletionTarget.Manifest, entry.Name + BackupObjectName.ManifestSuffix));
        var verificationsPrefix = entry.Name + BackupObjectName.VerificationsSuffix;
        foreach (var record in entry.VerificationObjects.Order(StringComparer.Ordinal))
        {
            if (record is null || !record.StartsWith(verificationsPrefix, StringComparison.Ordinal) || record.Length == verificationsPrefix.Length)
            {
                return Foreign(entry, backup, record);
            }
            steps.Add(DeletionStep.ForObject(DeletionTarget.VerificationRecord, record));
        }
        foreach (var dump in entry.DumpObjects.Order(StringComparer.Ordinal))
        {
            if (dump is null || (dump != entry.Name && !(dump.StartsWith(entry.Name + "/", StringComparison.Ordinal) && dump.Length > entry.Name.Length + 1)))
            {
                return Foreign(entry, backup, dump);
            }
            steps.Add(DeletionStep.ForObject(DeletionTarget.DumpObject, dump));
        }
        if (entry.Kind.IsBackupRun() && entry.BackupRunId is { } runId) steps.Add(DeletionStep.ForBackupRun(runId));
        if (steps.Count == 0)
        {
            return Keep(entry, backup, RetentionReasons.OrphanKept, "Nothing is stored under this name any more: there is nothing to delete.");
        }
        return new(entry, backup, RetentionAction.Delete, new(code, text), steps);
    }

    private static RetentionDecision Foreign(RetentionCandidate entry, BackupObjectName? backup, string? objectName) =>
        Keep(entry, backup, RetentionReasons.ForeignObjects,
            $"Lists the object '{objectName}', which is not one of its own (its dump, or a record under {BackupObjectName.VerificationsSuffix}): kept rather than deleting what may belong to something else.");

    private static OrphanFinding? Orphan(RetentionCandidate entry, DateTimeOffset now, RetentionPolicy policy)
    {
        if (entry.IsComplete) return null;
        var age = now - entry.Created;
        var kind = (entry.HasManifest, entry.HasData) switch
        {
            (true, false) => OrphanKind.ManifestWithoutDump,
            (false, true) => OrphanKind.DumpWithoutManifest,
            _ => OrphanKind.RecordsWithoutBackup,
        };
        // A dump without manifest younger than the minimum age may be an export still being written,
        // unless the export that claimed its name is known to have abandoned it.
        if (kind == OrphanKind.DumpWithoutManifest && age < policy.MinimumAge && !entry.Abandoned) return null;
        var cause = kind switch
        {
            OrphanKind.DumpWithoutManifest when entry.Abandoned => "the pre-deploy export that wrote it died, failed or was restarted under another name before its manifest",
            OrphanKind.DumpWithoutManifest => "an export that crashed before its manifest, or a deletion that crashed after removing it",
            OrphanKind.ManifestWithoutDump => "the catalog lists a backup whose data is gone; it is not restorable",
            _ => "what a deletion left behind",
        };
        return new OrphanFinding(entry.Name, kind, age, $"{Capitalised(OrphanWords(entry))}, {Describe(age)} old: {cause}.");
    }

    private static string OrphanWords(RetentionCandidate entry) => (entry.HasManifest, entry.HasData) switch
    {
        (true, false) => entry.Kind.IsBackupRun() ? "a manifest whose backup run is gone" : "a manifest without its dump",
        (false, true) => entry.Kind.IsBackupRun() ? "a backup run without manifest" : "a dump without manifest",
        _ => string.Create(CultureInfo.InvariantCulture, $"{entry.VerificationObjects.Count} verification record(s) with neither manifest nor dump"),
    };

    private static string Capitalised(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    /// <summary>
    /// The share rail. The share is of the backups in the catalog (entries named as backups under
    /// the prefix, orphans included); objects that are not backups do not dilute it.
    /// </summary>
    private static RetentionRefusal? ShareRail(RetentionPolicy policy, int backupCount, List<RetentionDecision> decisions)
    {
        var wouldDelete = decisions.Where(d => d.Action == RetentionAction.Delete).Select(d => d.Name).ToList();
        // The epsilon keeps 0.1 × 30 from flooring to 2 through binary rounding.
        var maxDeletions = (int)Math.Floor(policy.MaxDeleteShare * backupCount + 1e-9);
        if (wouldDelete.Count <= maxDeletions) return null;
        var text = string.Create(CultureInfo.InvariantCulture,
            $"the plan would delete {wouldDelete.Count} of {backupCount} backups ({100.0 * wouldDelete.Count / backupCount:0}%), more than MaxDeleteShare {100 * policy.MaxDeleteShare:0.#}% allows ({maxDeletions}). A mass expiry is more often a wrong clock, policy or listing than a real need: check them, then raise MaxDeleteShare for one run or delete by hand.");
        return new RetentionRefusal(RetentionReasons.RefusedMaxDeleteShare, text, backupCount, maxDeletions, wouldDelete);
    }

    /// <summary>A duration in the largest unit that reads well: 45 minutes, 5.5 hours, 30 days.</summary>
    internal static string Describe(TimeSpan span)
    {
        if (span < TimeSpan.Zero) return "-" + Describe(span.Negate());
        return span.TotalDays >= 2 ? string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(span.TotalDays * 10) / 10:0.#} days")
            : span.TotalHours >= 2 ? string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(span.TotalHours * 10) / 10:0.#} hours")
            : string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(span.TotalMinutes)} minutes");
    }

    /// <summary>What the rules need to know about the whole catalog, computed once.</summary>
    private sealed class Context
    {
        private readonly Dictionary<string, BackupObjectName?> _parsed = new(StringComparer.Ordinal);
        private readonly HashSet<string> _newestVerified = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _preDeployRank = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _weekly = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _monthly = new(StringComparer.Ordinal);

        public Context(RetentionPolicy policy, DateTimeOffset now, IReadOnlyList<RetentionCandidate> entries)
        {
            Policy = policy;
            Now = now;
            foreach (var entry in entries)
            {
                _parsed[entry.Name] = BackupObjectName.TryParse(entry.Name, policy.Prefix, out var parsed) ? parsed : null;
            }
            BackupCount = _parsed.Values.Count(p => p is not null);

            var complete = entries.Where(e => _parsed[e.Name] is not null && e.IsComplete).ToList();
            foreach (var group in complete.GroupBy(InstanceOf, StringComparer.Ordinal))
            {
                // Newest first; the name breaks ties so the plan never depends on input order.
                var newestFirst = group.OrderByDescending(e => e.Created).ThenByDescending(e => e.Name, StringComparer.Ordinal).ToList();
                if (newestFirst.FirstOrDefault(e => IsSwept(e.Kind) && e.LastVerification?.Passed == true) is { } verified)
                {
                    _newestVerified.Add(verified.Name);
                }
                var rank = 0;
                foreach (var preDeploy in newestFirst.Where(e => e.Kind == BackupKind.PreDeployExport).Take(policy.KeepLastPreDeploy))
                {
                    _preDeployRank[preDeploy.Name] = ++rank;
                }
                var periodic = newestFirst.Where(e => e.Kind is BackupKind.ScheduledExport or BackupKind.OnDemandBackupRun).ToList();
                KeepNewestPer(periodic, policy.KeepWeekly, WeeksAgo, IsoWeek, _weekly);
                KeepNewestPer(periodic, policy.KeepMonthly, MonthsAgo, Month, _monthly);
            }
        }

        public RetentionPolicy Policy { get; }
        public DateTimeOffset Now { get; }
        /// <summary>Entries named as backups under the prefix: what the share rail is a share of.</summary>
        public int BackupCount { get; }

        public BackupObjectName? Backup(RetentionCandidate entry) => _parsed[entry.Name];
        public bool IsNewestVerified(RetentionCandidate entry) => _newestVerified.Contains(entry.Name);
        public int? PreDeployRank(RetentionCandidate entry) => _preDeployRank.TryGetValue(entry.Name, out var rank) ? rank : null;
        public string? WeeklyKeep(RetentionCandidate entry) => _weekly.GetValueOrDefault(entry.Name);
        public string? MonthlyKeep(RetentionCandidate entry) => _monthly.GetValueOrDefault(entry.Name);

        private static bool IsSwept(BackupKind kind) => kind is BackupKind.PreDeployExport or BackupKind.ScheduledExport or BackupKind.OnDemandBackupRun;

        private string InstanceOf(RetentionCandidate entry)
        {
            var name = _parsed[entry.Name]!;
            return name.Environment + "/" + name.Instance;
        }

        /// <summary>Marks the newest entry of each of the last <paramref name="count"/> periods (entries come newest first).</summary>
        private void KeepNewestPer(List<RetentionCandidate> newestFirst, int? count, Func<DateTimeOffset, DateTimeOffset, int> periodsAgo,
            Func<DateTimeOffset, string> label, Dictionary<string, string> kept)
        {
            if (count is not > 0) return;
            var seen = new HashSet<int>();
            foreach (var entry in newestFirst)
            {
                // A backup stamped after now (clock skew) is young and kept anyway; it must not take an older one's keep.
                if (entry.Created > Now) continue;
                var ago = periodsAgo(Now, entry.Created);
                if (ago >= 0 && ago < count && seen.Add(ago)) kept[entry.Name] = label(entry.Created);
            }
        }

        private static int WeeksAgo(DateTimeOffset now, DateTimeOffset time) => (WeekStart(now) - WeekStart(time)).Days / 7;

        private static DateTime WeekStart(DateTimeOffset time)
        {
            var day = time.UtcDateTime.Date;
            return day.AddDays(-(((int)day.DayOfWeek + 6) % 7));
        }

        private static int MonthsAgo(DateTimeOffset now, DateTimeOffset time)
        {
            var (n, t) = (now.UtcDateTime, time.UtcDateTime);
            return (n.Year * 12 + n.Month) - (t.Year * 12 + t.Month);
        }

        private static string IsoWeek(DateTimeOffset time) =>
            string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(time.UtcDateTime)}-W{ISOWeek.GetWeekOfYear(time.UtcDateTime):00}");

        private static string Month(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);
    }
}
