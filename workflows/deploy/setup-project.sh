#!/usr/bin/env bash
# Sets up a Google Cloud project for the Commissable backup & restore functions and workflows:
# APIs, service accounts with least privilege, the backup bucket, Cloud Scheduler jobs, Eventarc
# triggers, log-based metrics and alert policies. cloudbuild.yaml deploys the code itself.
#
# Re-runnable: every resource is described before it is created (or created, else updated), and
# IAM bindings are additive, so a second run changes nothing that is already right.
#
# Order on a new project:
#   1. workflows/deploy/setup-project.sh              # everything that does not need the services
#   2. gcloud builds submit --config cloudbuild.yaml --substitutions=...  # image, services, workflows
#   3. workflows/deploy/setup-project.sh              # again: invoker bindings, triggers, schedules
# Step 3's parts are skipped with a message while the Cloud Run services do not exist yet.
#
# Usage:
#   PROJECT_ID=commissable-prod REGION=us-central1 ... workflows/deploy/setup-project.sh [--dry-run]
#   --dry-run   print every gcloud command instead of running it (nothing is read or changed;
#               values that only Google knows, such as instance service accounts, print as <...>).
#               With DRY_RUN_ASSUME_EXISTS=true it prints the update path of each resource instead
#               of the create path.
#
# Configuration (environment variables):
#   required
#     PROJECT_ID                  the project, e.g. commissable-prod
#     REGION                      region of the Cloud Run services, workflows, scheduler jobs, e.g. us-central1
#     BACKUP_BUCKET               the backup bucket (bare name, no gs://)
#     ENVIRONMENT_NAME            prod, staging...: the environment in backup names
#     PROD_INSTANCE               the production Cloud SQL instance id (the backup source)
#     VERIFY_INSTANCE             the scratch instance restore-verify restores into (never production)
#     STAGING_INSTANCE            the staging instance clone-prod-to-staging loads
#     APP_SERVICE                 the CRM app's Cloud Run service (short name) whose DATABASE_URL/DIRECT_URL the DR workflow swaps
#     APP_RUNTIME_SERVICE_ACCOUNT the service account the CRM app's revisions run as (the DR workflow acts as it to roll a revision);
#                                 it is also the ONLY caller of data-management (run.invoker on that service, nobody else's)
#     DATABASE_URL_SECRET, DIRECT_URL_SECRET  the Secret Manager secrets the app reads its URLs from
#     STAGING_APP_PASSWORD_SECRET the secret holding the staging app user's password (clone workflow)
#     INSPECTOR_PASSWORD_SECRET   the secret holding the inspector role's password (mounted into the functions)
#   optional
#     DATA_MANAGEMENT_JWKS_SECRET the secret holding the CRM backend's public keys (JWKS JSON), mounted into
#                                 data-management (default: data-management-jwks)
#     TENANT_RESTORE_PASSWORD_SECRET  the secret holding the password of the tenant-restore function's login
#                                 (cloudbuild.yaml's _TENANT_RESTORE_DB_USER; default: tenant-restore-db-password)
#     PRODUCTION_INSTANCES        comma-separated production instance ids (default: PROD_INSTANCE)
#     BACKUP_PREFIX               folder of the backups in the bucket (default: backups)
#     BUCKET_LOCATION             the bucket's location (default: REGION); the storage trigger lives there too
#     RETENTION_DAYS              the retention sweeper's window, the strategy's 30 days (default: 30)
#     BACKUP_LIFECYCLE_DAYS       the bucket's backstop deletion age under the prefix (default: 90; must exceed RETENTION_DAYS)
#     NONCURRENT_DAYS             how long overwritten/deleted versions are kept (default: 30)
#     SOFT_DELETE_DAYS            soft-delete retention of deleted objects, 7 to 90 (default: 14)
#     VERIFY_SCHEDULE             cron of the restore test (default: "0 4 * * 1", Mondays 04:00)
#     SWEEP_SCHEDULE              cron of the retention sweep (default: "30 3 * * *", daily 03:30)
#     SCHEDULE_TIME_ZONE          time zone of both schedules (default: Etc/UTC)
#     CRITICAL_TABLES             JSON array of tables the restore test requires (default: [])
#     EVENTARC_AUDIT_LOCATION     location of the audit-log triggers (default: global)
#     ARTIFACT_REPOSITORY         Artifact Registry Docker repository of the image (default: commissable)
#     BUILD_SERVICE_ACCOUNT       the Cloud Build service account that deploys; unset skips its grants
#     ALERT_NOTIFICATION_CHANNELS comma-separated notification channel names for the alert policies
#     DRY_RUN_ASSUME_EXISTS       with --dry-run: print the path taken when resources already exist
set -euo pipefail

usage() { sed -n '2,/^set -euo pipefail/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

DRY_RUN=false
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=true ;;
    -h | --help) usage; exit 0 ;;
    *) echo "setup-project.sh: unknown argument '$arg' (accepted: --dry-run, --help)" >&2; exit 64 ;;
  esac
done

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# ---- configuration -----------------------------------------------------------------------------
missing=()
for name in PROJECT_ID REGION BACKUP_BUCKET ENVIRONMENT_NAME PROD_INSTANCE VERIFY_INSTANCE STAGING_INSTANCE \
  APP_SERVICE APP_RUNTIME_SERVICE_ACCOUNT DATABASE_URL_SECRET DIRECT_URL_SECRET STAGING_APP_PASSWORD_SECRET \
  INSPECTOR_PASSWORD_SECRET; do
  [[ -n "${!name:-}" ]] || missing+=("$name")
done
if ((${#missing[@]} > 0)); then
  echo "setup-project.sh: missing configuration: ${missing[*]}" >&2
  echo "  set each as an environment variable (see the top of $0, or run it with --help)" >&2
  exit 78
fi

PRODUCTION_INSTANCES="${PRODUCTION_INSTANCES:-$PROD_INSTANCE}"
TENANT_RESTORE_PASSWORD_SECRET="${TENANT_RESTORE_PASSWORD_SECRET:-tenant-restore-db-password}"
DATA_MANAGEMENT_JWKS_SECRET="${DATA_MANAGEMENT_JWKS_SECRET:-data-management-jwks}"
BACKUP_PREFIX="${BACKUP_PREFIX:-backups}"
BUCKET_LOCATION="${BUCKET_LOCATION:-$REGION}"
RETENTION_DAYS="${RETENTION_DAYS:-30}"
BACKUP_LIFECYCLE_DAYS="${BACKUP_LIFECYCLE_DAYS:-90}"
NONCURRENT_DAYS="${NONCURRENT_DAYS:-30}"
SOFT_DELETE_DAYS="${SOFT_DELETE_DAYS:-14}"
VERIFY_SCHEDULE="${VERIFY_SCHEDULE:-0 4 * * 1}"
SWEEP_SCHEDULE="${SWEEP_SCHEDULE:-30 3 * * *}"
SCHEDULE_TIME_ZONE="${SCHEDULE_TIME_ZONE:-Etc/UTC}"
CRITICAL_TABLES="${CRITICAL_TABLES:-[]}"
EVENTARC_AUDIT_LOCATION="${EVENTARC_AUDIT_LOCATION:-global}"
ARTIFACT_REPOSITORY="${ARTIFACT_REPOSITORY:-commissable}"
BUILD_SERVICE_ACCOUNT="${BUILD_SERVICE_ACCOUNT:-}"
ALERT_NOTIFICATION_CHANNELS="${ALERT_NOTIFICATION_CHANNELS:-}"
DRY_RUN_ASSUME_EXISTS="${DRY_RUN_ASSUME_EXISTS:-false}"

problems=()
for name in RETENTION_DAYS BACKUP_LIFECYCLE_DAYS NONCURRENT_DAYS SOFT_DELETE_DAYS; do
  [[ "${!name}" =~ ^[1-9][0-9]{0,4}$ ]] || problems+=("$name must be a whole number of days; got '${!name}'")
done
if ((${#problems[@]} == 0)); then
  # The sweeper keeps the last pre-deploy exports, held and weekly/monthly backups past its window;
  # the lifecycle rule is only the backstop for when the sweeper stops running, so it must be later.
  ((BACKUP_LIFECYCLE_DAYS > RETENTION_DAYS)) ||
    problems+=("BACKUP_LIFECYCLE_DAYS ($BACKUP_LIFECYCLE_DAYS) must be more than RETENTION_DAYS ($RETENTION_DAYS): the lifecycle rule would delete backups the sweeper keeps")
  ((SOFT_DELETE_DAYS >= 7 && SOFT_DELETE_DAYS <= 90)) || problems+=("SOFT_DELETE_DAYS must be 7 to 90; got $SOFT_DELETE_DAYS")
fi
[[ "$BACKUP_BUCKET" != gs://* ]] || problems+=("BACKUP_BUCKET must be a bare bucket name without gs://; got '$BACKUP_BUCKET'")
[[ "$BACKUP_PREFIX" =~ ^[A-Za-z0-9_-][A-Za-z0-9._/-]*[A-Za-z0-9_-]$|^[A-Za-z0-9_-]$ ]] || problems+=("BACKUP_PREFIX must be a folder path without leading or trailing slash; got '$BACKUP_PREFIX'")
# The one identity allowed to call data-management: a service account's email, nothing broader.
[[ "$APP_RUNTIME_SERVICE_ACCOUNT" =~ ^[a-z0-9][a-z0-9-]*@[a-z0-9][a-z0-9.-]*\.gserviceaccount\.com$ ]] ||
  problems+=("APP_RUNTIME_SERVICE_ACCOUNT must be the CRM app's service account email (name@project.iam.gserviceaccount.com), the only caller of data-management; got '$APP_RUNTIME_SERVICE_ACCOUNT'")
[[ "$DATA_MANAGEMENT_JWKS_SECRET" =~ ^[A-Za-z0-9_-]{1,255}$ ]] ||
  problems+=("DATA_MANAGEMENT_JWKS_SECRET must be a Secret Manager secret id (letters, digits, '_' and '-'); got '$DATA_MANAGEMENT_JWKS_SECRET'")
[[ "$CRITICAL_TABLES" == \[*\] ]] || problems+=("CRITICAL_TABLES must be a JSON array such as [\"Account\",\"Deposit\"]; got '$CRITICAL_TABLES'")
for instance in ${PRODUCTION_INSTANCES//,/ }; do
  [[ "$instance" != "$VERIFY_INSTANCE" && "$instance" != "$STAGING_INSTANCE" ]] ||
    problems+=("'$instance' is in PRODUCTION_INSTANCES and is also VERIFY_INSTANCE or STAGING_INSTANCE: those are restored into")
done
if ((${#problems[@]} > 0)); then
  printf 'setup-project.sh: %s\n' "${problems[@]}" >&2
  exit 78
fi

# ---- how commands run --------------------------------------------------------------------------
# Every gcloud call goes through run (changes), exists (describe) or capture (reads a value), so
# --dry-run prints all of them, one per line, as "+ gcloud ..." with shell quoting.
print_command() { printf '+'; printf ' %q' "$@"; printf '\n'; }

run() {
  if [[ "$DRY_RUN" == true ]]; then print_command "$@" >&3; else "$@"; fi
}

# exists CMD...: whether the describe command succeeds (in a dry run: DRY_RUN_ASSUME_EXISTS).
exists() {
  if [[ "$DRY_RUN" == true ]]; then
    print_command "$@" >&3
    [[ "$DRY_RUN_ASSUME_EXISTS" == true ]]
  else
    "$@" >/dev/null 2>&1
  fi
}

# capture PLACEHOLDER CMD...: the command's output (in a dry run: PLACEHOLDER).
capture() {
  local placeholder="$1"
  shift
  if [[ "$DRY_RUN" == true ]]; then print_command "$@" >&3; printf '%s' "$placeholder"; else "$@"; fi
}

step() { printf '\n==> %s\n' "$*" >&3; }
note() { printf '    %s\n' "$*" >&3; }
exec 3>&1

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

P=(--project="$PROJECT_ID")
sa_email() { printf '%s@%s.iam.gserviceaccount.com' "$1" "$PROJECT_ID"; }
member() { printf 'serviceAccount:%s' "$(sa_email "$1")"; }
custom_role() { printf 'projects/%s/roles/%s' "$PROJECT_ID" "$1"; }

# The Cloud Run services cloudbuild.yaml deploys, one per function, and their service accounts.
FUNCTIONS=(pre-deploy-export on-backup-completed on-backup-audited restore-verify retention-sweeper grant-app-user catalog tenant-restore data-management
  secret-check secret-repoint staging-app-user)
declare -A FUNCTION_SA=(
  [pre-deploy-export]=bk-pre-deploy-export
  [on-backup-completed]=bk-on-backup-completed
  [on-backup-audited]=bk-on-backup-audited
  [restore-verify]=bk-restore-verify
  [retention-sweeper]=bk-retention-sweeper
  [grant-app-user]=bk-grant-app-user
  [catalog]=bk-catalog
  [tenant-restore]=bk-tenant-restore
  [data-management]=bk-data-management
  [secret-check]=bk-secret-check
  [secret-repoint]=bk-secret-repoint
  [staging-app-user]=bk-staging-app-user
)
DR_SA=wf-disaster-recovery
CLONE_SA=wf-clone-to-staging
TENANT_SA=wf-tenant-restore
ON_DEMAND_SA=wf-on-demand-backup
SCHEDULER_SA=bk-scheduler
EVENTARC_SA=bk-eventarc

# ---- APIs --------------------------------------------------------------------------------------
step "APIs"
run gcloud services enable "${P[@]}" \
  run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com sqladmin.googleapis.com \
  storage.googleapis.com workflows.googleapis.com workflowexecutions.googleapis.com eventarc.googleapis.com \
  pubsub.googleapis.com cloudscheduler.googleapis.com secretmanager.googleapis.com logging.googleapis.com \
  monitoring.googleapis.com iam.googleapis.com iamcredentials.googleapis.com

# ---- Artifact Registry -------------------------------------------------------------------------
step "Artifact Registry repository $ARTIFACT_REPOSITORY ($REGION)"
if ! exists gcloud artifacts repositories describe "$ARTIFACT_REPOSITORY" "${P[@]}" --location="$REGION"; then
  run gcloud artifacts repositories create "$ARTIFACT_REPOSITORY" "${P[@]}" --location="$REGION" \
    --repository-format=docker --description="Commissable backup functions image"
fi

# ---- service accounts --------------------------------------------------------------------------
step "Service accounts (one per function, per workflow, for Cloud Scheduler and for Eventarc)"
ensure_sa() {
  local id="$1" display="$2"
  if ! exists gcloud iam service-accounts describe "$(sa_email "$id")" "${P[@]}"; then
    run gcloud iam service-accounts create "$id" "${P[@]}" --display-name="$display"
  fi
}
for fn in "${FUNCTIONS[@]}"; do ensure_sa "${FUNCTION_SA[$fn]}" "Cloud Run function $fn"; done
ensure_sa "$DR_SA" "Workflow disaster-recovery"
ensure_sa "$CLONE_SA" "Workflow clone-prod-to-staging"
ensure_sa "$TENANT_SA" "Workflow tenant-restore"
ensure_sa "$ON_DEMAND_SA" "Workflow on-demand-backup"
ensure_sa "$SCHEDULER_SA" "Cloud Scheduler caller of restore-verify and retention-sweeper"
ensure_sa "$EVENTARC_SA" "Eventarc triggers of on-backup-completed and on-backup-audited"

# ---- custom roles ------------------------------------------------------------------------------
# Predefined Cloud SQL roles are coarse: cloudsql.editor can import into and drop databases of
# every instance. These carry exactly what one function or workflow does, and are bound with an
# IAM condition on the one instance it may change where that instance is known.
step "Custom roles"
ensure_role() {
  local id="$1" title="$2" permissions="$3"
  if exists gcloud iam roles describe "$id" "${P[@]}"; then
    run gcloud iam roles update "$id" "${P[@]}" --title="$title" --permissions="$permissions" --stage=GA --quiet
  else
    run gcloud iam roles create "$id" "${P[@]}" --title="$title" --permissions="$permissions" --stage=GA
  fi
}
# pre-deploy-export starts exports of production instances (POST instances/export).
ensure_role commissableSqlExporter "Commissable: export Cloud SQL instances" \
  cloudsql.instances.export
# restore-verify imports a backup into a scratch database of VERIFY_INSTANCE and drops it again.
ensure_role commissableScratchRestorer "Commissable: restore into scratch databases" \
  cloudsql.instances.import,cloudsql.databases.create,cloudsql.databases.delete,cloudsql.databases.get,cloudsql.databases.list
# clone-prod-to-staging recreates the staging database and imports into it; the app user is
# staging-app-user's. A role made before that also holds users.*, which a clone workflow deployed
# before it still uses: those go only once the new functions are callable (below).
STAGING_LOADER_PERMISSIONS=cloudsql.instances.import,cloudsql.databases.create,cloudsql.databases.delete,cloudsql.databases.get,cloudsql.databases.list
if exists gcloud iam roles describe commissableStagingLoader "${P[@]}"; then
  note "commissableStagingLoader keeps its permissions until the functions are deployed (see the last steps)"
else
  ensure_role commissableStagingLoader "Commissable: recreate and load the staging database" "$STAGING_LOADER_PERMISSIONS"
fi
# staging-app-user lists the staging instance's users and creates the app user with its password.
ensure_role commissableStagingUserCreator "Commissable: create the staging app user" \
  cloudsql.users.create,cloudsql.users.list
# retention-sweeper deletes expired on-demand backup runs (never automated ones: Cloud SQL retires those).
ensure_role commissableBackupRunPruner "Commissable: delete expired on-demand backup runs" \
  cloudsql.backupRuns.delete
# A Cloud SQL instance's service agent writes its exports into the bucket: Cloud SQL's export
# documentation names storage.objects.create as the only permission a non-parallel export needs
# (list and delete only for parallel exports, which these functions do not start).
ensure_role commissableSqlExportWriter "Commissable: Cloud SQL writes exports to the backup bucket" \
  storage.objects.create

# ---- secrets -----------------------------------------------------------------------------------
# Only the containers: versions (the values) are added by people or by the DR workflow, never here.
step "Secrets (created empty when missing; add versions with gcloud secrets versions add)"
for secret in "$DATABASE_URL_SECRET" "$DIRECT_URL_SECRET" "$STAGING_APP_PASSWORD_SECRET" "$INSPECTOR_PASSWORD_SECRET" "$TENANT_RESTORE_PASSWORD_SECRET" \
  "$DATA_MANAGEMENT_JWKS_SECRET"; do
  if ! exists gcloud secrets describe "$secret" "${P[@]}"; then
    run gcloud secrets create "$secret" "${P[@]}" --replication-policy=automatic
  fi
done

# ---- the backup bucket -------------------------------------------------------------------------
step "Backup bucket gs://$BACKUP_BUCKET"
# Private (uniform bucket-level access, public access prevention enforced), versioned, soft
# delete on, and a lifecycle that expires backups after BACKUP_LIFECYCLE_DAYS and old versions
# after NONCURRENT_DAYS.
#
# Why soft delete and not a Bucket Lock retention policy (--retention-period): a bucket retention
# policy cannot be combined with Object Versioning, and it forbids deleting any object younger than
# the period, which breaks the catalog's own side objects (the per-instance export lease is
# deleted after every export, hold markers when a hold is released). Soft delete keeps every
# deleted object recoverable for SOFT_DELETE_DAYS, and versioning keeps overwritten ones.
#
# The age rule matches the environment's backup folder only ($BACKUP_PREFIX/$ENVIRONMENT_NAME/):
# the audit records (.audit/), data-management's jobs (.data-management/jobs/) and the tenant
# restores' records (tenant-restores/) beside it are immutable and never expire.
cat >"$WORK/lifecycle.json" <<EOF
{
  "rule": [
    {
      "action": {"type": "Delete"},
      "condition": {"age": $BACKUP_LIFECYCLE_DAYS, "matchesPrefix": ["$BACKUP_PREFIX/$ENVIRONMENT_NAME/"]}
    },
    {
      "action": {"type": "Delete"},
      "condition": {"daysSinceNoncurrentTime": $NONCURRENT_DAYS, "isLive": false, "matchesPrefix": ["$BACKUP_PREFIX/"]}
    },
    {
      "action": {"type": "Delete"},
      "condition": {"age": 1, "matchesPrefix": ["$BACKUP_PREFIX/.data-management/jti/"]}
    }
  ]
}
EOF
note "lifecycle rules: $(tr -d '\n' <"$WORK/lifecycle.json" | tr -s ' ')"
if ! exists gcloud storage buckets describe "gs://$BACKUP_BUCKET" "${P[@]}"; then
  run gcloud storage buckets create "gs://$BACKUP_BUCKET" "${P[@]}" --location="$BUCKET_LOCATION" \
    --uniform-bucket-level-access --public-access-prevention --soft-delete-duration="${SOFT_DELETE_DAYS}d"
fi
# Always applied, so a re-run restores settings someone changed by hand.
run gcloud storage buckets update "gs://$BACKUP_BUCKET" "${P[@]}" --versioning --uniform-bucket-level-access \
  --public-access-prevention --soft-delete-duration="${SOFT_DELETE_DAYS}d" --lifecycle-file="$WORK/lifecycle.json"

bucket_grant() { run gcloud storage buckets add-iam-policy-binding "gs://$BACKUP_BUCKET" "${P[@]}" --member="$1" --role="$2"; }
# pre-deploy-export: reads and writes manifests, idempotency tickets and the per-instance lease,
# and deletes the lease afterwards: create, get, list and delete on this bucket only.
bucket_grant "$(member bk-pre-deploy-export)" roles/storage.objectUser
# on-backup-completed / on-backup-audited: read the finished object, create its manifest (create-only).
for fn in on-backup-completed on-backup-audited; do
  bucket_grant "$(member "${FUNCTION_SA[$fn]}")" roles/storage.objectViewer
  bucket_grant "$(member "${FUNCTION_SA[$fn]}")" roles/storage.objectCreator
done
# restore-verify: reads backups and manifests, creates the immutable verification records.
bucket_grant "$(member bk-restore-verify)" roles/storage.objectViewer
bucket_grant "$(member bk-restore-verify)" roles/storage.objectCreator
# retention-sweeper: lists the catalog, records backup runs missing from it (create-only
# manifests) and deletes expired dumps and manifests.
bucket_grant "$(member bk-retention-sweeper)" roles/storage.objectUser
# catalog: lists manifests, read-only.
bucket_grant "$(member bk-catalog)" roles/storage.objectViewer
# clone-prod-to-staging reads the manifest of the backup it loads.
bucket_grant "$(member "$CLONE_SA")" roles/storage.objectViewer
# tenant-restore (function): reads its run's plan objects, creates plans, approvals, applies and
# the record (create-only) under <prefix>/tenant-restores/.
bucket_grant "$(member bk-tenant-restore)" roles/storage.objectViewer
bucket_grant "$(member bk-tenant-restore)" roles/storage.objectCreator
# tenant-restore (workflow) checks that the backup it is given exists.
bucket_grant "$(member "$TENANT_SA")" roles/storage.objectViewer

# data-management: reads the catalog, creates its audit records, job records and the used-token
# (jti) markers, all create-only: never overwrites or deletes (the jti markers expire by the
# lifecycle rule above, a day after they are written; a token lives at most 5 minutes).
bucket_grant "$(member bk-data-management)" roles/storage.objectViewer
bucket_grant "$(member bk-data-management)" roles/storage.objectCreator

# The Cloud SQL instances' own service agents move the data: production instances write exports,
# the verification and staging instances read the dumps they import.
instance_sa() {
  capture "<service-account-of-$1>" gcloud sql instances describe "$1" "${P[@]}" --format='value(serviceAccountEmailAddress)' 2>/dev/null || true
}
for instance in ${PRODUCTION_INSTANCES//,/ }; do
  sa="$(instance_sa "$instance")"
  if [[ -n "$sa" ]]; then bucket_grant "serviceAccount:$sa" "$(custom_role commissableSqlExportWriter)"; else note "instance $instance not found: its export grant is skipped"; fi
done
for instance in "$VERIFY_INSTANCE" "$STAGING_INSTANCE"; do
  sa="$(instance_sa "$instance")"
  if [[ -n "$sa" ]]; then bucket_grant "serviceAccount:$sa" roles/storage.objectViewer; else note "instance $instance not found: its import grant is skipped (create it, then re-run)"; fi
done

# ---- project-level roles -----------------------------------------------------------------------
step "Project roles"
project_grant() {
  run gcloud projects add-iam-policy-binding "$PROJECT_ID" --member="$1" --role="$2" --condition=None --quiet >/dev/null
}
# instance_condition_file NAME INSTANCE: an IAM condition limiting a binding to one Cloud SQL instance.
instance_condition_file() {
  local file="$WORK/condition-$1.json"
  cat >"$file" <<EOF
{"title": "only $2", "description": "Limits the binding to the Cloud SQL instance $2.", "expression": "resource.name == 'projects/$PROJECT_ID/instances/$2'"}
EOF
  note "condition on $1: $(sed -n 's/.*"expression": "\(.*\)"}$/\1/p' "$file")"
  printf '%s' "$file"
}
project_grant_on_instance() {
  local who="$1" role="$2" instance="$3"
  run gcloud projects add-iam-policy-binding "$PROJECT_ID" --member="$who" --role="$role" \
    --condition-from-file="$(instance_condition_file "$(basename "$role")-$instance" "$instance")" --quiet >/dev/null
}

# pre-deploy-export: cloudsql.viewer reads the instance's backup configuration, backup runs and
# operations (the preconditions); the export itself is the custom role, only on production
# instances; cloudsql.client opens the /cloudsql socket to read the migration head and row counts.
project_grant "$(member bk-pre-deploy-export)" roles/cloudsql.viewer
project_grant "$(member bk-pre-deploy-export)" roles/cloudsql.client
for instance in ${PRODUCTION_INSTANCES//,/ }; do
  project_grant_on_instance "$(member bk-pre-deploy-export)" "$(custom_role commissableSqlExporter)" "$instance"
done
# on-backup-completed / on-backup-audited: read backup runs and operations to describe a backup.
project_grant "$(member bk-on-backup-completed)" roles/cloudsql.viewer
project_grant "$(member bk-on-backup-audited)" roles/cloudsql.viewer
# restore-verify: reads instances (labels, the live mode's source); imports and drops scratch
# databases on VERIFY_INSTANCE only; connects to the databases it checks.
project_grant "$(member bk-restore-verify)" roles/cloudsql.viewer
project_grant "$(member bk-restore-verify)" roles/cloudsql.client
project_grant_on_instance "$(member bk-restore-verify)" "$(custom_role commissableScratchRestorer)" "$VERIFY_INSTANCE"
# retention-sweeper: lists backup runs (to reconcile the catalog and judge freshness), deletes expired on-demand ones.
project_grant "$(member bk-retention-sweeper)" roles/cloudsql.viewer
project_grant "$(member bk-retention-sweeper)" "$(custom_role commissableBackupRunPruner)"
# grant-app-user: connects to the staging database to grant the app user its privileges.
project_grant "$(member bk-grant-app-user)" roles/cloudsql.viewer
project_grant "$(member bk-grant-app-user)" roles/cloudsql.client
# secret-check and secret-repoint: read the instances a connection secret names (by name, from the API).
project_grant "$(member bk-secret-check)" roles/cloudsql.viewer
project_grant "$(member bk-secret-repoint)" roles/cloudsql.viewer
# staging-app-user: lists the staging instance's users and creates the app user (on that instance only).
project_grant "$(member bk-staging-app-user)" roles/cloudsql.viewer
project_grant_on_instance "$(member bk-staging-app-user)" "$(custom_role commissableStagingUserCreator)" "$STAGING_INSTANCE"
# tenant-restore (function): reads instances (labels: the staged copy is never production) and
# connects to production and to the scratch copy with its own login.
project_grant "$(member bk-tenant-restore)" roles/cloudsql.viewer
project_grant "$(member bk-tenant-restore)" roles/cloudsql.client
# disaster-recovery: creates NEW instances (clone with a point in time, insert + restoreBackup),
# reads backup runs, databases and users: only cloudsql.admin can create instances. It never
# deletes one (the old instance is kept for forensics), but no narrower predefined role exists.
project_grant "$(member "$DR_SA")" roles/cloudsql.admin
# clone-prod-to-staging: reads the source instance and operations; recreates, loads and adds the
# app user on STAGING_INSTANCE only.
project_grant "$(member "$CLONE_SA")" roles/cloudsql.viewer
project_grant_on_instance "$(member "$CLONE_SA")" "$(custom_role commissableStagingLoader)" "$STAGING_INSTANCE"
# tenant-restore (workflow): creates a scratch instance (clone with a point in time, or insert +
# restoreBackup) and deletes it again, or a scratch database on VERIFY_INSTANCE with an import;
# creating and deleting instances needs cloudsql.admin, no narrower predefined role has it. It
# deletes only the instance it created (<source>-tr-<execution>) and never writes to production
# itself: the function does, after the approval.
project_grant "$(member "$TENANT_SA")" roles/cloudsql.admin
# The workflows write sys.log entries to Cloud Logging.
project_grant "$(member "$DR_SA")" roles/logging.logWriter
project_grant "$(member "$CLONE_SA")" roles/logging.logWriter
project_grant "$(member "$TENANT_SA")" roles/logging.logWriter
# data-management starts the on-demand-backup, clone-prod-to-staging and tenant-restore workflows,
# follows their executions and sends the tenant restore's approval callback (workflows.invoker:
# executions create/get/list/cancel, callbacks list/send; not deploying or changing workflows).
project_grant "$(member bk-data-management)" roles/workflows.invoker
# Eventarc's trigger identity must be allowed to receive events.
project_grant "$(member "$EVENTARC_SA")" roles/eventarc.eventReceiver

# Cloud Storage triggers: the project's Cloud Storage service agent publishes to Pub/Sub, and
# (projects created before April 2021) the Pub/Sub service agent mints the push identity tokens.
PROJECT_NUMBER="$(capture '<project-number>' gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)')"
GCS_AGENT="$(capture '<cloud-storage-service-agent>' gcloud storage service-agent "${P[@]}")"
project_grant "serviceAccount:$GCS_AGENT" roles/pubsub.publisher
project_grant "serviceAccount:service-$PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com" roles/iam.serviceAccountTokenCreator

# ---- secrets: per-secret bindings --------------------------------------------------------------
step "Secret bindings"
secret_grant() { run gcloud secrets add-iam-policy-binding "$1" "${P[@]}" --member="$2" --role="$3" --quiet >/dev/null; }
# The functions that log in to databases read the inspector's password (mounted as a file).
for fn in pre-deploy-export restore-verify grant-app-user; do
  secret_grant "$INSPECTOR_PASSWORD_SECRET" "$(member "${FUNCTION_SA[$fn]}")" roles/secretmanager.secretAccessor
done
# The app's two URLs: secret-check reads them (does the latest name the source?), secret-repoint
# reads them and adds the swapped version (user, password and options kept, only the instance
# changed). The disaster-recovery workflow itself holds no value and gets no role on them.
for secret in "$DATABASE_URL_SECRET" "$DIRECT_URL_SECRET"; do
  secret_grant "$secret" "$(member bk-secret-check)" roles/secretmanager.secretAccessor
  secret_grant "$secret" "$(member bk-secret-repoint)" roles/secretmanager.secretAccessor
  secret_grant "$secret" "$(member bk-secret-repoint)" roles/secretmanager.secretVersionAdder
done
# staging-app-user reads the staging app user's password to create that user; the
# clone-prod-to-staging workflow holds no value and gets no role on it (an earlier set-up's is
# taken back once the functions that replace it are deployed and callable, below).
secret_grant "$STAGING_APP_PASSWORD_SECRET" "$(member bk-staging-app-user)" roles/secretmanager.secretAccessor
# tenant-restore (function) logs in to production and the scratch copy with its own login (mounted as a file).
secret_grant "$TENANT_RESTORE_PASSWORD_SECRET" "$(member bk-tenant-restore)" roles/secretmanager.secretAccessor
# data-management reads the CRM backend's public keys (mounted as a file), and no other secret.
secret_grant "$DATA_MANAGEMENT_JWKS_SECRET" "$(member bk-data-management)" roles/secretmanager.secretAccessor

# ---- the app service (disaster recovery's swap) ------------------------------------------------
step "CRM app service $APP_SERVICE"
# run.developer on the one service: get it and patch it so a new revision picks up the new secret
# versions. Patching a service deploys a revision that runs as the app's service account, which
# needs iam.serviceAccounts.actAs on it (serviceAccountUser on that account only).
if exists gcloud run services describe "$APP_SERVICE" "${P[@]}" --region="$REGION"; then
  run gcloud run services add-iam-policy-binding "$APP_SERVICE" "${P[@]}" --region="$REGION" \
    --member="$(member "$DR_SA")" --role=roles/run.developer --quiet >/dev/null
else
  note "service $APP_SERVICE not found in $REGION: the disaster-recovery workflow's run.developer binding is skipped"
fi
run gcloud iam service-accounts add-iam-policy-binding "$APP_RUNTIME_SERVICE_ACCOUNT" "${P[@]}" \
  --member="$(member "$DR_SA")" --role=roles/iam.serviceAccountUser --quiet >/dev/null

# ---- the deployer ------------------------------------------------------------------------------
step "Cloud Build service account"
if [[ -n "$BUILD_SERVICE_ACCOUNT" ]]; then
  build_member="serviceAccount:$BUILD_SERVICE_ACCOUNT"
  # Deploys Cloud Run services (run.developer), deploys workflows (workflows.editor), pushes the
  # image (artifactregistry.writer on the one repository), writes build logs.
  project_grant "$build_member" roles/run.developer
  project_grant "$build_member" roles/workflows.editor
  project_grant "$build_member" roles/logging.logWriter
  run gcloud artifacts repositories add-iam-policy-binding "$ARTIFACT_REPOSITORY" "${P[@]}" --location="$REGION" \
    --member="$build_member" --role=roles/artifactregistry.writer --quiet >/dev/null
  # Deploying a service or workflow that runs as an account needs actAs on that account.
  for id in "${FUNCTION_SA[@]}" "$DR_SA" "$CLONE_SA" "$TENANT_SA" "$ON_DEMAND_SA"; do
    run gcloud iam service-accounts add-iam-policy-binding "$(sa_email "$id")" "${P[@]}" \
      --member="$build_member" --role=roles/iam.serviceAccountUser --quiet >/dev/null
  done
else
  note "BUILD_SERVICE_ACCOUNT not set: the deployer's grants are skipped"
fi

# ---- log-based metrics -------------------------------------------------------------------------
# The functions log one JSON object per line; the stable event name is jsonPayload.event.
step "Log-based metrics"
ensure_metric() {
  local name="$1" description="$2" filter="$3"
  if exists gcloud logging metrics describe "$name" "${P[@]}"; then
    run gcloud logging metrics update "$name" "${P[@]}" --description="$description" --log-filter="$filter"
  else
    run gcloud logging metrics create "$name" "${P[@]}" --description="$description" --log-filter="$filter"
  fi
}
RUN_LOGS='resource.type="cloud_run_revision"'
ensure_metric backup_failed "A Cloud SQL export or backup run finished in error (on-backup-completed/on-backup-audited)" \
  "$RUN_LOGS AND jsonPayload.event=\"backup.failed\""
ensure_metric backup_completed "A backup was recorded in the catalog" \
  "$RUN_LOGS AND jsonPayload.event=\"backup.completed\""
ensure_metric backup_verify_failed "A restore test failed (restore-verify)" \
  "$RUN_LOGS AND jsonPayload.event=\"backup.verify.failed\""
ensure_metric backup_verify_passed "A restore test passed (restore-verify)" \
  "$RUN_LOGS AND jsonPayload.event=\"backup.verify.passed\""
ensure_metric backup_overdue "An instance has no successful automated backup younger than MAX_BACKUP_AGE_HOURS (retention-sweeper)" \
  "$RUN_LOGS AND jsonPayload.event=\"backup.overdue\""

# ---- alert policies ----------------------------------------------------------------------------
step "Alert policies"
ensure_policy() {
  local file="$HERE/$1" display
  display="$(sed -n 's/^  "displayName": "\(.*\)",$/\1/p' "$file" | head -n 1)"
  [[ -n "$display" ]] || { echo "setup-project.sh: $file has no top-level displayName" >&2; exit 70; }
  local existing
  existing="$(capture "$([[ "$DRY_RUN_ASSUME_EXISTS" == true ]] && printf 'projects/%s/alertPolicies/<id>' "$PROJECT_ID")" \
    gcloud alpha monitoring policies list "${P[@]}" --filter="displayName=\"$display\"" --format='value(name)' | head -n 1)"
  if [[ -n "$existing" ]]; then
    local channels=()
    [[ -z "$ALERT_NOTIFICATION_CHANNELS" ]] || channels=(--set-notification-channels="$ALERT_NOTIFICATION_CHANNELS")
    run gcloud alpha monitoring policies update "$existing" "${P[@]}" --policy-from-file="$file" "${channels[@]}" --quiet
  else
    local channels=()
    [[ -z "$ALERT_NOTIFICATION_CHANNELS" ]] || channels=(--notification-channels="$ALERT_NOTIFICATION_CHANNELS")
    run gcloud alpha monitoring policies create "${P[@]}" --policy-from-file="$file" "${channels[@]}" --quiet
  fi
}
ensure_policy alert-backup-failed.json
ensure_policy alert-backup-overdue.json
ensure_policy alert-backup-instance-overdue.json
ensure_policy alert-verify-failed.json
ensure_policy alert-verify-overdue.json

# ---- what needs the deployed services ----------------------------------------------------------
service_url() {
  capture "https://$1-<hash>-$REGION.a.run.app" gcloud run services describe "$1" "${P[@]}" --region="$REGION" --format='value(status.url)' 2>/dev/null || true
}
invoker() {
  run gcloud run services add-iam-policy-binding "$1" "${P[@]}" --region="$REGION" --member="$2" --role=roles/run.invoker --quiet >/dev/null
}

step "Who may call which function (run.invoker per service)"
declare -A URL=()
for fn in "${FUNCTIONS[@]}"; do URL[$fn]="$(service_url "$fn")"; done
deployed=true
for fn in "${FUNCTIONS[@]}"; do
  [[ -n "${URL[$fn]}" ]] || { deployed=false; note "service $fn is not deployed yet"; }
done
if [[ "$deployed" != true ]]; then
  note "deploy with cloudbuild.yaml, then run this script again for invoker bindings, Eventarc triggers and schedules"
  exit 0
fi
# Cloud Scheduler calls the restore test and the sweep.
invoker restore-verify "$(member "$SCHEDULER_SA")"
invoker retention-sweeper "$(member "$SCHEDULER_SA")"
# Eventarc delivers to the two completion functions.
invoker on-backup-completed "$(member "$EVENTARC_SA")"
invoker on-backup-audited "$(member "$EVENTARC_SA")"
# disaster-recovery smoke-tests the new instance in place (restore-verify's live mode).
invoker restore-verify "$(member "$DR_SA")"
# disaster-recovery checks its connection secrets before anything is created and swaps them after
# the approval. Only it may call secret-repoint: a call rewrites production's connection.
invoker secret-check "$(member "$DR_SA")"
invoker secret-repoint "$(member "$DR_SA")"
# clone-prod-to-staging takes a fresh export, verifies the staging copy, grants the app user.
invoker pre-deploy-export "$(member "$CLONE_SA")"
invoker restore-verify "$(member "$CLONE_SA")"
invoker grant-app-user "$(member "$CLONE_SA")"
invoker staging-app-user "$(member "$CLONE_SA")"
# tenant-restore plans, applies and records through its function, takes the safety export, and
# checks a backup's scratch copy against its manifest.
invoker tenant-restore "$(member "$TENANT_SA")"
invoker pre-deploy-export "$(member "$TENANT_SA")"
invoker restore-verify "$(member "$TENANT_SA")"
# on-demand-backup (what data-management's POST /backups starts) asks pre-deploy-export for the backup.
invoker pre-deploy-export "$(member "$ON_DEMAND_SA")"
# data-management: the CRM app's service account, and nobody else. The binding is added, then any
# other run.invoker member (a hand-made grant, allUsers) is removed, so a re-run restores it.
app_member="serviceAccount:$APP_RUNTIME_SERVICE_ACCOUNT"
invoker data-management "$app_member"
for other in $(capture '' gcloud run services get-iam-policy data-management "${P[@]}" --region="$REGION" \
  --flatten='bindings[].members' --filter='bindings.role=roles/run.invoker' --format='value(bindings.members)'); do
  if [[ "$other" != "$app_member" ]]; then
    note "data-management: removing run.invoker of $other (only $app_member may call it)"
    run gcloud run services remove-iam-policy-binding data-management "${P[@]}" --region="$REGION" \
      --member="$other" --role=roles/run.invoker --quiet >/dev/null
  fi
done
# The deploy pipeline's pre-deploy-backup step asks pre-deploy-export for a backup.
[[ -z "$BUILD_SERVICE_ACCOUNT" ]] || invoker pre-deploy-export "serviceAccount:$BUILD_SERVICE_ACCOUNT"

step "Roles the workflows no longer need (the secret functions above now do that work)"
# A project set up before the secret handling moved into functions gave the workflows these roles.
# They are taken back only here, after the functions that replace them are deployed and callable,
# so a workflow deployed before the change keeps working until the new one replaces it.
take_back_secret_role() {
  local secret="$1" account="$2" role="$3"
  if [[ -n "$(capture '' gcloud secrets get-iam-policy "$secret" "${P[@]}" --flatten='bindings[].members' \
      --filter="bindings.role=$role AND bindings.members=$(member "$account")" --format='value(bindings.members)')" ]]; then
    note "$secret: removing $role of $account (the workflow holds no secret value any more)"
    run gcloud secrets remove-iam-policy-binding "$secret" "${P[@]}" --member="$(member "$account")" --role="$role" --quiet >/dev/null
  fi
}
for secret in "$DATABASE_URL_SECRET" "$DIRECT_URL_SECRET"; do
  take_back_secret_role "$secret" "$DR_SA" roles/secretmanager.secretAccessor
  take_back_secret_role "$secret" "$DR_SA" roles/secretmanager.secretVersionAdder
done
take_back_secret_role "$STAGING_APP_PASSWORD_SECRET" "$CLONE_SA" roles/secretmanager.secretAccessor
ensure_role commissableStagingLoader "Commissable: recreate and load the staging database" "$STAGING_LOADER_PERMISSIONS"

step "Eventarc triggers"
ensure_trigger() {
  local name="$1" location="$2" service="$3"
  shift 3
  if exists gcloud eventarc triggers describe "$name" "${P[@]}" --location="$location"; then
    run gcloud eventarc triggers update "$name" "${P[@]}" --location="$location" --destination-run-service="$service" \
      --destination-run-region="$REGION" --service-account="$(sa_email "$EVENTARC_SA")" "$@"
  else
    run gcloud eventarc triggers create "$name" "${P[@]}" --location="$location" --destination-run-service="$service" \
      --destination-run-region="$REGION" --service-account="$(sa_email "$EVENTARC_SA")" "$@"
  fi
}
# A Cloud Storage trigger lives in the bucket's location; the function ignores objects outside the
# prefix and catalog side objects, since Eventarc cannot filter on a name prefix.
ensure_trigger backup-object-finalized "$BUCKET_LOCATION" on-backup-completed \
  --event-filters=type=google.cloud.storage.object.v1.finalized --event-filters=bucket="$BACKUP_BUCKET"
# Audit-log triggers take one methodName each. Admin Activity audit logs are always on, so
# nothing needs enabling for these two methods.
ensure_trigger backup-audited-export "$EVENTARC_AUDIT_LOCATION" on-backup-audited \
  --event-filters=type=google.cloud.audit.log.v1.written --event-filters=serviceName=cloudsql.googleapis.com \
  --event-filters=methodName=cloudsql.instances.export
ensure_trigger backup-audited-backup-run "$EVENTARC_AUDIT_LOCATION" on-backup-audited \
  --event-filters=type=google.cloud.audit.log.v1.written --event-filters=serviceName=cloudsql.googleapis.com \
  --event-filters=methodName=cloudsql.backupRuns.create

step "Cloud Scheduler jobs"
ensure_job() {
  local name="$1" schedule="$2" fn="$3" body="$4" description="$5"
  local common=("${P[@]}" --location="$REGION" --schedule="$schedule" --time-zone="$SCHEDULE_TIME_ZONE"
    --uri="${URL[$fn]}" --http-method=post --message-body="$body"
    --oidc-service-account-email="$(sa_email "$SCHEDULER_SA")" --oidc-token-audience="${URL[$fn]}"
    --attempt-deadline=1800s --max-retry-attempts=0 --description="$description")
  if exists gcloud scheduler jobs describe "$name" "${P[@]}" --location="$REGION"; then
    run gcloud scheduler jobs update http "$name" "${common[@]}" --update-headers=Content-Type=application/json
  else
    run gcloud scheduler jobs create http "$name" "${common[@]}" --headers=Content-Type=application/json
  fi
}
# The restore test: the newest backup of the production instance, restored into VERIFY_INSTANCE.
# No retries: a second restore of the same backup would fail the same way, and the alert on
# backup.verify.failed is the signal. 1800 s is Cloud Scheduler's longest HTTP deadline; the
# function keeps running to its own end (and logs the outcome) if the test takes longer.
ensure_job restore-verify-weekly "$VERIFY_SCHEDULE" restore-verify \
  "{\"backup\":\"latest\",\"instance\":\"$PROD_INSTANCE\",\"verificationInstance\":\"$VERIFY_INSTANCE\",\"criticalTables\":$CRITICAL_TABLES}" \
  "Restore the newest backup of $PROD_INSTANCE into $VERIFY_INSTANCE and run the smoke checks"
ensure_job retention-sweeper-daily "$SWEEP_SCHEDULE" retention-sweeper '{"apply":true}' \
  "Apply the backup retention policy (the sweeper's safety rails apply)"

step "Done"
note "functions: ${FUNCTIONS[*]}; workflows are deployed by cloudbuild.yaml"
