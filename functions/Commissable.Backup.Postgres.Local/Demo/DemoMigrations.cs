using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Commissable.Backup.Postgres.Demo;

/// <summary>
/// One Prisma migration of the demo schema: its folder name, the SQL of its <c>migration.sql</c>
/// and the checksum Prisma records for it (lowercase hex SHA-256 of that SQL).
/// </summary>
public sealed record DemoMigration(string Name, string Sql)
{
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));

    /// <summary>When the migration was started, taken from the timestamp its name starts with (UTC).</summary>
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.ParseExact(
        Name[..14], "yyyyMMddHHmmss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}

/// <summary>The demo schema as the migrations a Prisma project would have applied, in order.</summary>
internal static class DemoMigrations
{
    /// <summary>The table exactly as <c>prisma migrate</c> creates it.</summary>
    public const string PrismaMigrationsTable = """
        CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
            "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
            "checksum"              VARCHAR(64) NOT NULL,
            "finished_at"           TIMESTAMPTZ,
            "migration_name"        VARCHAR(255) NOT NULL,
            "logs"                  TEXT,
            "rolled_back_at"        TIMESTAMPTZ,
            "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
            "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
        );
        """;

    public static IReadOnlyList<DemoMigration> All { get; } =
    [
        new("20250101000000_init", Init),
        new("20250115093000_add_deposits", AddDeposits),
        new("20250203120000_add_revenue_schedules", AddRevenueSchedules),
        new("20250220150000_add_commissions", AddCommissions),
        new("20250310080000_add_reconciliation", AddReconciliation),
        new("20250402110000_reconciliation_indexes", ReconciliationIndexes),
        new("20250501090000_add_data_management_permissions", AddDataManagementPermissions),
    ];

    private const string Init = """
        -- CreateEnum
        CREATE TYPE "TenantStatus" AS ENUM ('TRIAL', 'ACTIVE', 'SUSPENDED', 'CANCELLED');

        -- CreateEnum
        CREATE TYPE "UserStatus" AS ENUM ('INVITED', 'ACTIVE', 'SUSPENDED', 'DISABLED');

        -- CreateEnum
        CREATE TYPE "AccountType" AS ENUM ('CUSTOMER', 'PROSPECT', 'PARTNER', 'VENDOR', 'DISTRIBUTOR');

        -- CreateEnum
        CREATE TYPE "OpportunityStage" AS ENUM ('QUALIFICATION', 'DISCOVERY', 'PROPOSAL', 'NEGOTIATION', 'CLOSED_WON', 'CLOSED_LOST');

        -- CreateEnum
        CREATE TYPE "ActivityType" AS ENUM ('CALL', 'EMAIL', 'MEETING', 'DEMO', 'FOLLOW_UP');

        -- CreateEnum
        CREATE TYPE "TaskStatus" AS ENUM ('OPEN', 'IN_PROGRESS', 'DONE', 'CANCELLED');

        -- CreateEnum
        CREATE TYPE "TaskPriority" AS ENUM ('LOW', 'MEDIUM', 'HIGH', 'URGENT');

        -- CreateTable
        CREATE TABLE "Tenant" (
            "id" TEXT NOT NULL,
            "name" TEXT NOT NULL,
            "slug" TEXT NOT NULL,
            "plan" TEXT NOT NULL DEFAULT 'starter',
            "status" "TenantStatus" NOT NULL DEFAULT 'TRIAL',
            "settings" JSONB NOT NULL DEFAULT '{}',
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
            "updatedAt" TIMESTAMP(3) NOT NULL,

            CONSTRAINT "Tenant_pkey" PRIMARY KEY ("id"),
            CONSTRAINT "Tenant_plan_check" CHECK ("plan" IN ('starter', 'growth', 'enterprise'))
        );

        -- CreateTable
        CREATE TABLE "Permission" (
            "id" SERIAL NOT NULL,
            "code" TEXT NOT NULL,
            "name" TEXT NOT NULL,
            "category" TEXT NOT NULL,

            CONSTRAINT "Permission_pkey" PRIMARY KEY ("id")
        );

        -- CreateTable
        CREATE TABLE "Role" (
            "id" SERIAL NOT NULL,
            "tenantId" TEXT NOT NULL,
            "name" TEXT NOT NULL,
            "description" TEXT,
            "isSystem" BOOLEAN NOT NULL DEFAULT false,
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

            CONSTRAINT "Role_pkey" PRIMARY KEY ("id")
        );

        -- CreateTable
        CREATE TABLE "RolePermission" (
            "tenantId" TEXT NOT NULL,
            "roleId" INTEGER NOT NULL,
            "permissionId" INTEGER NOT NULL,
            "grantedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

            CONSTRAINT "RolePermission_pkey" PRIMARY KEY ("roleId", "permissionId")
        );

        -- CreateTable
        CREATE TABLE "User" (
            "id" TEXT NOT NULL,
            "tenantId" TEXT NOT NULL,
            "email" TEXT NOT NULL,
            "name" TEXT NOT NULL,
            "status" "UserStatus" NOT NULL DEFAULT 'INVITED',
            "passwordHash" TEXT,
            "lastLoginAt" TIMESTAMP(3),
            "preferences" JSONB NOT NULL DEFAULT '{}',
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
            "updatedAt" TIMESTAMP(3) NOT NULL,
            "deletedAt" TIMESTAMP(3),

            CONSTRAINT "User_pkey" PRIMARY KEY ("id")
        );

        -- CreateTable
        CREATE TABLE "UserRole" (
            "tenantId" TEXT NOT NULL,
            "userId" TEXT NOT NULL,
            "roleId" INTEGER NOT NULL,
            "assignedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

            CONSTRAINT "UserRole_pkey" PRIMARY KEY ("userId", "roleId")
        );

        -- CreateTable
        CREATE TABLE "Account" (
            "id" TEXT NOT NULL,
            "tenantId" TEXT NOT NULL,
            "name" TEXT NOT NULL,
            "type" "AccountType" NOT NULL DEFAULT 'PROSPECT',
            "industry" TEXT,
            "website" TEXT,
            "ownerId" TEXT,
            "parentAccountId" TEXT,
            "billingAddress" JSONB,
            "annualRevenue" DECIMAL(14,2),
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
            "updatedAt" TIMESTAMP(3) NOT NULL,
            "deletedAt" TIMESTAMP(3),

            CONSTRAINT "Account_pkey" PRIMARY KEY ("id")
        );

        -- CreateTable
        CREATE TABLE "Contact" (
            "id" TEXT NOT NULL,
            "tenantId" TEXT NOT NULL,
            "accountId" TEXT NOT NULL,
            "firstName" TEXT NOT NULL,
            "lastName" TEXT NOT NULL,
            "email" TEXT,
            "phone" TEXT,
            "title" TEXT,
            "isPrimary" BOOLEAN NOT NULL DEFAULT false,
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
            "updatedAt" TIMESTAMP(3) NOT NULL,
            "deletedAt" TIMESTAMP(3),

            CONSTRAINT "Contact_pkey" PRIMARY KEY ("id")
        );

        -- CreateTable
        CREATE TABLE "Product" (
            "id" SERIAL NOT NULL,
            "tenantId" TEXT NOT NULL,
            "sku" TEXT NOT NULL,
            "name" TEXT NOT NULL,
            "category" TEXT NOT NULL,
            "unitPrice" DECIMAL(12,2) NOT NULL,
            "commissionRate" DECIMAL(5,4) NOT NULL DEFAULT 0.1000,
            "active" BOOLEAN NOT NULL DEFAULT true,
            "attributes" JSONB,
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

            CONSTRAINT "Product_pkey" PRIMARY KEY ("id"),
            CONSTRAINT "Product_unitPrice_check" CHECK ("unitPrice" >= 0)
        );

        -- CreateTable
        CREATE TABLE "Opportunity" (
            "id" TEXT NOT NULL,
            "tenantId" TEXT NOT NULL,
            "accountId" TEXT NOT NULL,
            "ownerId" TEXT NOT NULL,
            "productId" INTEGER,
            "name" TEXT NOT NULL,
            "stage" "OpportunityStage" NOT NULL DEFAULT 'QUALIFICATION',
            "amount" DECIMAL(14,2) NOT NULL,
            "probability" INTEGER NOT NULL DEFAULT 10,
            "closeDate" DATE,
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
            "updatedAt" TIMESTAMP(3) NOT NULL,
            "deletedAt" TIMESTAMP(3),

            CONSTRAINT "Opportunity_pkey" PRIMARY KEY ("id"),
            CONSTRAINT "Opportunity_probability_check" CHECK ("probability" BETWEEN 0 AND 100)
        );

        -- CreateTable
        CREATE TABLE "Activity" (
            "id" BIGINT NOT NULL GENERATED BY DEFAULT AS IDENTITY,
            "tenantId" TEXT NOT NULL,
            "type" "ActivityType" NOT NULL,
            "subject" TEXT NOT NULL,
            "userId" TEXT NOT NULL,
            "accountId" TEXT,
            "contactId" TEXT,
            "opportunityId" TEXT,
            "occurredAt" TIMESTAMP(3) NOT NULL,
            "durationMinutes" INTEGER,
            "metadata" JSONB NOT NULL DEFAULT '{}',
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

            CONSTRAINT "Activity_pkey" PRIMARY KEY ("id")
        );

        -- CreateTable
        CREATE TABLE "Note" (
            "id" TEXT NOT NULL,
            "tenantId" TEXT NOT NULL,
            "authorId" TEXT NOT NULL,
            "accountId" TEXT,
            "opportunityId" TEXT,
            "body" TEXT NOT NULL,
            "pinned" BOOLEAN NOT NULL DEFAULT false,
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
            "updatedAt" TIMESTAMP(3) NOT NULL,

            CONSTRAINT "Note_pkey" PRIMARY KEY ("id")
        );

        -- CreateTable
        CREATE TABLE "Task" (
            "id" TEXT NOT NULL,
            "tenantId" TEXT NOT NULL,
            "assigneeId" TEXT NOT NULL,
            "opportunityId" TEXT,
            "title" TEXT NOT NULL,
            "status" "TaskStatus" NOT NULL DEFAULT 'OPEN',
            "priority" "TaskPriority" NOT NULL DEFAULT 'MEDIUM',
            "dueAt" TIMESTAMP(3),
            "completedAt" TIMESTAMP(3),
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
            "updatedAt" TIMESTAMP(3) NOT NULL,

            CONSTRAINT "Task_pkey" PRIMARY KEY ("id"),
            CONSTRAINT "Task_completed_check" CHECK ("status" <> 'DONE' OR "completedAt" IS NOT NULL)
        );

        -- CreateTable
        CREATE TABLE "AuditLog" (
            "id" BIGINT NOT NULL GENERATED BY DEFAULT AS IDENTITY,
            "tenantId" TEXT NOT NULL,
            "userId" TEXT,
            "action" TEXT NOT NULL,
            "entityType" TEXT NOT NULL,
            "entityId" TEXT NOT NULL,
            "changes" JSONB,
            "ipAddress" TEXT,
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

            CONSTRAINT "AuditLog_pkey" PRIMARY KEY ("id")
        );

        -- CreateIndex
        CREATE UNIQUE INDEX "Tenant_slug_key" ON "Tenant"("slug");

        -- CreateIndex
        CREATE UNIQUE INDEX "Permission_code_key" ON "Permission"("code");

        -- CreateIndex
        CREATE UNIQUE INDEX "Role_tenantId_name_key" ON "Role"("tenantId", "name");

        -- CreateIndex
        CREATE INDEX "RolePermission_tenantId_idx" ON "RolePermission"("tenantId");

        -- CreateIndex
        CREATE UNIQUE INDEX "User_tenantId_email_key" ON "User"("tenantId", "email");

        -- CreateIndex
        CREATE INDEX "User_tenantId_status_idx" ON "User"("tenantId", "status") WHERE "deletedAt" IS NULL;

        -- CreateIndex
        CREATE INDEX "UserRole_tenantId_roleId_idx" ON "UserRole"("tenantId", "roleId");

        -- CreateIndex
        CREATE INDEX "Account_tenantId_name_idx" ON "Account"("tenantId", "name") WHERE "deletedAt" IS NULL;

        -- CreateIndex
        CREATE INDEX "Account_tenantId_ownerId_idx" ON "Account"("tenantId", "ownerId");

        -- CreateIndex
        CREATE INDEX "Contact_tenantId_accountId_idx" ON "Contact"("tenantId", "accountId");

        -- CreateIndex
        CREATE UNIQUE INDEX "Contact_tenantId_email_key" ON "Contact"("tenantId", lower("email")) WHERE "deletedAt" IS NULL AND "email" IS NOT NULL;

        -- CreateIndex
        CREATE UNIQUE INDEX "Product_tenantId_sku_key" ON "Product"("tenantId", "sku");

        -- CreateIndex
        CREATE INDEX "Opportunity_tenantId_stage_closeDate_idx" ON "Opportunity"("tenantId", "stage", "closeDate");

        -- CreateIndex
        CREATE INDEX "Opportunity_accountId_idx" ON "Opportunity"("accountId");

        -- CreateIndex
        CREATE INDEX "Activity_tenantId_occurredAt_idx" ON "Activity"("tenantId", "occurredAt" DESC);

        -- CreateIndex
        CREATE INDEX "Activity_opportunityId_idx" ON "Activity"("opportunityId");

        -- CreateIndex
        CREATE INDEX "Note_tenantId_accountId_idx" ON "Note"("tenantId", "accountId");

        -- CreateIndex
        CREATE INDEX "Task_tenantId_assigneeId_status_idx" ON "Task"("tenantId", "assigneeId", "status");

        -- CreateIndex
        CREATE INDEX "AuditLog_tenantId_createdAt_idx" ON "AuditLog"("tenantId", "createdAt");

        -- CreateIndex
        CREATE INDEX "AuditLog_entityType_entityId_idx" ON "AuditLog"("entityType", "entityId");

        -- AddForeignKey
        ALTER TABLE "Role" ADD CONSTRAINT "Role_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "RolePermission" ADD CONSTRAINT "RolePermission_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "RolePermission" ADD CONSTRAINT "RolePermission_roleId_fkey" FOREIGN KEY ("roleId") REFERENCES "Role"("id") ON DELETE CASCADE ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "RolePermission" ADD CONSTRAINT "RolePermission_permissionId_fkey" FOREIGN KEY ("permissionId") REFERENCES "Permission"("id") ON DELETE CASCADE ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "User" ADD CONSTRAINT "User_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "UserRole" ADD CONSTRAINT "UserRole_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "UserRole" ADD CONSTRAINT "UserRole_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "UserRole" ADD CONSTRAINT "UserRole_roleId_fkey" FOREIGN KEY ("roleId") REFERENCES "Role"("id") ON DELETE CASCADE ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Account" ADD CONSTRAINT "Account_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Account" ADD CONSTRAINT "Account_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Account" ADD CONSTRAINT "Account_parentAccountId_fkey" FOREIGN KEY ("parentAccountId") REFERENCES "Account"("id") ON DELETE SET NULL ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Contact" ADD CONSTRAINT "Contact_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Contact" ADD CONSTRAINT "Contact_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Product" ADD CONSTRAINT "Product_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Opportunity" ADD CONSTRAINT "Opportunity_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Opportunity" ADD CONSTRAINT "Opportunity_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Opportunity" ADD CONSTRAINT "Opportunity_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Opportunity" ADD CONSTRAINT "Opportunity_productId_fkey" FOREIGN KEY ("productId") REFERENCES "Product"("id") ON DELETE SET NULL ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Activity" ADD CONSTRAINT "Activity_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Activity" ADD CONSTRAINT "Activity_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Activity" ADD CONSTRAINT "Activity_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE SET NULL ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Activity" ADD CONSTRAINT "Activity_contactId_fkey" FOREIGN KEY ("contactId") REFERENCES "Contact"("id") ON DELETE SET NULL ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Activity" ADD CONSTRAINT "Activity_opportunityId_fkey" FOREIGN KEY ("opportunityId") REFERENCES "Opportunity"("id") ON DELETE SET NULL ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Note" ADD CONSTRAINT "Note_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Note" ADD CONSTRAINT "Note_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Note" ADD CONSTRAINT "Note_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Note" ADD CONSTRAINT "Note_opportunityId_fkey" FOREIGN KEY ("opportunityId") REFERENCES "Opportunity"("id") ON DELETE CASCADE ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Task" ADD CONSTRAINT "Task_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Task" ADD CONSTRAINT "Task_assigneeId_fkey" FOREIGN KEY ("assigneeId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Task" ADD CONSTRAINT "Task_opportunityId_fkey" FOREIGN KEY ("opportunityId") REFERENCES "Opportunity"("id") ON DELETE SET NULL ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "AuditLog" ADD CONSTRAINT "AuditLog_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "AuditLog" ADD CONSTRAINT "AuditLog_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

        -- SeedPermissions
        INSERT INTO "Permission" ("code", "name", "category") VALUES
            ('accounts.read', 'View accounts', 'accounts'),
            ('accounts.write', 'Edit accounts', 'accounts'),
            ('contacts.read', 'View contacts', 'contacts'),
            ('contacts.write', 'Edit contacts', 'contacts'),
            ('opportunities.read', 'View opportunities', 'opportunities'),
            ('opportunities.write', 'Edit opportunities', 'opportunities'),
            ('products.manage', 'Manage the product catalog', 'products'),
            ('activities.write', 'Log activities', 'activities'),
            ('users.manage', 'Manage users and roles', 'admin'),
            ('audit.read', 'Read the audit log', 'admin');
        """;

    private const string AddDeposits = """
        -- CreateEnum
        CREATE TYPE "DepositStatus" AS ENUM ('PENDING', 'PROCESSING', 'RECONCILED', 'DISPUTED');

        -- CreateEnum
        CREATE TYPE "ImportKind" AS ENUM ('DEPOSIT', 'ACCOUNTS', 'CONTACTS', 'PRODUCTS');

        -- CreateEnum
        CREATE TYPE "ImportStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED');

        -- CreateTable
        CREATE TABLE "Deposit" (
            "id" TEXT NOT NULL,
            "tenantId" TEXT NOT NULL,
            "accountId" TEXT NOT NULL,
            "reference" TEXT NOT NULL,
            "depositDate" DATE NOT NULL,
            "totalAmount" DECIMAL(14,2) NOT NULL,
            "currency" CHAR(3) NOT NULL DEFAULT 'USD',
            "status" "DepositStatus" NOT NULL DEFAULT 'PENDING',
            "fileName" TEXT,
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
            "updatedAt" TIMESTAMP(3) NOT NULL,

            CONSTRAINT "Deposit_pkey" PRIMARY KEY ("id")
        );

        -- CreateTable
        CREATE TABLE "DepositLineItem" (
            "id" SERIAL NOT NULL,
            "tenantId" TEXT NOT NULL,
            "depositId" TEXT NOT NULL,
            "lineNumber" INTEGER NOT NULL,
            "customerName" TEXT NOT NULL,
            "productSku" TEXT,
            "usageAmount" DECIMAL(14,2) NOT NULL,
            "commissionAmount" DECIMAL(14,2) NOT NULL,
            "rawData" JSONB NOT NULL,
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

            CONSTRAINT "DepositLineItem_pkey" PRIMARY KEY ("id"),
            CONSTRAINT "DepositLineItem_lineNumber_check" CHECK ("lineNumber" > 0)
        );

        -- CreateTable
        CREATE TABLE "ImportJob" (
            "id" TEXT NOT NULL,
            "tenantId" TEXT NOT NULL,
            "userId" TEXT NOT NULL,
            "kind" "ImportKind" NOT NULL,
            "status" "ImportStatus" NOT NULL DEFAULT 'QUEUED',
            "fileName" TEXT NOT NULL,
            "totalRows" INTEGER NOT NULL DEFAULT 0,
            "processedRows" INTEGER NOT NULL DEFAULT 0,
            "errors" JSONB,
            "startedAt" TIMESTAMP(3),
            "finishedAt" TIMESTAMP(3),
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

            CONSTRAINT "ImportJob_pkey" PRIMARY KEY ("id")
        );

        -- CreateIndex
        CREATE UNIQUE INDEX "Deposit_tenantId_reference_key" ON "Deposit"("tenantId", "reference");

        -- CreateIndex
        CREATE INDEX "Deposit_tenantId_depositDate_idx" ON "Deposit"("tenantId", "depositDate");

        -- CreateIndex
        CREATE UNIQUE INDEX "DepositLineItem_depositId_lineNumber_key" ON "DepositLineItem"("depositId", "lineNumber");

        -- CreateIndex
        CREATE INDEX "ImportJob_tenantId_createdAt_idx" ON "ImportJob"("tenantId", "createdAt");

        -- AddForeignKey
        ALTER TABLE "Deposit" ADD CONSTRAINT "Deposit_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Deposit" ADD CONSTRAINT "Deposit_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "DepositLineItem" ADD CONSTRAINT "DepositLineItem_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "DepositLineItem" ADD CONSTRAINT "DepositLineItem_depositId_fkey" FOREIGN KEY ("depositId") REFERENCES "Deposit"("id") ON DELETE CASCADE ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "ImportJob" ADD CONSTRAINT "ImportJob_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "ImportJob" ADD CONSTRAINT "ImportJob_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
        """;

    private const string AddRevenueSchedules = """
        -- CreateEnum
        CREATE TYPE "RevenueScheduleStatus" AS ENUM ('PROJECTED', 'INVOICED', 'RECEIVED', 'RECONCILED', 'WRITTEN_OFF');

        -- CreateTable
        CREATE TABLE "RevenueSchedule" (
            "id" TEXT NOT NULL,
            "tenantId" TEXT NOT NULL,
            "opportunityId" TEXT NOT NULL,
            "productId" INTEGER,
            "scheduleDate" DATE NOT NULL,
            "expectedAmount" DECIMAL(14,2) NOT NULL,
            "actualAmount" DECIMAL(14,2),
            "status" "RevenueScheduleStatus" NOT NULL DEFAULT 'PROJECTED',
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
            "updatedAt" TIMESTAMP(3) NOT NULL,

            CONSTRAINT "RevenueSchedule_pkey" PRIMARY KEY ("id")
        );

        -- CreateIndex
        CREATE INDEX "RevenueSchedule_tenantId_scheduleDate_idx" ON "RevenueSchedule"("tenantId", "scheduleDate");

        -- CreateIndex
        CREATE INDEX "RevenueSchedule_opportunityId_idx" ON "RevenueSchedule"("opportunityId");

        -- AddForeignKey
        ALTER TABLE "RevenueSchedule" ADD CONSTRAINT "RevenueSchedule_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "RevenueSchedule" ADD CONSTRAINT "RevenueSchedule_opportunityId_fkey" FOREIGN KEY ("opportunityId") REFERENCES "Opportunity"("id") ON DELETE CASCADE ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "RevenueSchedule" ADD CONSTRAINT "RevenueSchedule_productId_fkey" FOREIGN KEY ("productId") REFERENCES "Product"("id") ON DELETE SET NULL ON UPDATE CASCADE;
        """;

    private const string AddCommissions = """
        -- CreateEnum
        CREATE TYPE "CommissionStatus" AS ENUM ('PENDING', 'APPROVED', 'PAID', 'CLAWED_BACK');

        -- CreateEnum
        CREATE TYPE "PayoutStatus" AS ENUM ('SCHEDULED', 'SENT', 'FAILED');

        -- CreateTable
        CREATE TABLE "Commission" (
            "id" TEXT NOT NULL,
            "tenantId" TEXT NOT NULL,
            "revenueScheduleId" TEXT NOT NULL,
            "userId" TEXT NOT NULL,
            "rate" DECIMAL(5,4) NOT NULL,
            "amount" DECIMAL(14,2) NOT NULL,
            "status" "CommissionStatus" NOT NULL DEFAULT 'PENDING',
            "calculatedAt" TIMESTAMP(3) NOT NULL,
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

            CONSTRAINT "Commission_pkey" PRIMARY KEY ("id"),
            CONSTRAINT "Commission_rate_check" CHECK ("rate" >= 0 AND "rate" <= 1)
        );

        -- CreateTable
        CREATE TABLE "Payout" (
            "id" INTEGER NOT NULL GENERATED BY DEFAULT AS IDENTITY,
            "tenantId" TEXT NOT NULL,
            "commissionId" TEXT NOT NULL,
            "userId" TEXT NOT NULL,
            "amount" DECIMAL(14,2) NOT NULL,
            "method" TEXT NOT NULL DEFAULT 'ach',
            "status" "PayoutStatus" NOT NULL DEFAULT 'SCHEDULED',
            "paidAt" TIMESTAMP(3),
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

            CONSTRAINT "Payout_pkey" PRIMARY KEY ("id"),
            CONSTRAINT "Payout_amount_check" CHECK ("amount" >= 0)
        );

        -- CreateIndex
        CREATE UNIQUE INDEX "Commission_revenueScheduleId_userId_key" ON "Commission"("revenueScheduleId", "userId");

        -- CreateIndex
        CREATE INDEX "Commission_tenantId_status_idx" ON "Commission"("tenantId", "status");

        -- CreateIndex
        CREATE INDEX "Payout_tenantId_userId_idx" ON "Payout"("tenantId", "userId");

        -- AddForeignKey
        ALTER TABLE "Commission" ADD CONSTRAINT "Commission_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Commission" ADD CONSTRAINT "Commission_revenueScheduleId_fkey" FOREIGN KEY ("revenueScheduleId") REFERENCES "RevenueSchedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Commission" ADD CONSTRAINT "Commission_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Payout" ADD CONSTRAINT "Payout_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Payout" ADD CONSTRAINT "Payout_commissionId_fkey" FOREIGN KEY ("commissionId") REFERENCES "Commission"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Payout" ADD CONSTRAINT "Payout_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
        """;

    private const string AddReconciliation = """
        -- CreateEnum
        CREATE TYPE "ReconciliationStatus" AS ENUM ('SUGGESTED', 'MATCHED', 'REJECTED');

        -- CreateEnum
        CREATE TYPE "MatchType" AS ENUM ('EXACT', 'FUZZY', 'MANUAL');

        -- CreateTable
        CREATE TABLE "Reconciliation" (
            "id" TEXT NOT NULL,
            "tenantId" TEXT NOT NULL,
            "depositLineItemId" INTEGER NOT NULL,
            "revenueScheduleId" TEXT,
            "matchedAmount" DECIMAL(14,2) NOT NULL,
            "confidence" DECIMAL(5,4),
            "matchType" "MatchType" NOT NULL,
            "status" "ReconciliationStatus" NOT NULL DEFAULT 'SUGGESTED',
            "reconciledById" TEXT,
            "reconciledAt" TIMESTAMP(3),
            "notes" TEXT,
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

            CONSTRAINT "Reconciliation_pkey" PRIMARY KEY ("id")
        );

        -- CreateIndex
        CREATE UNIQUE INDEX "Reconciliation_depositLineItemId_key" ON "Reconciliation"("depositLineItemId");

        -- AddForeignKey
        ALTER TABLE "Reconciliation" ADD CONSTRAINT "Reconciliation_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Reconciliation" ADD CONSTRAINT "Reconciliation_depositLineItemId_fkey" FOREIGN KEY ("depositLineItemId") REFERENCES "DepositLineItem"("id") ON DELETE CASCADE ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Reconciliation" ADD CONSTRAINT "Reconciliation_revenueScheduleId_fkey" FOREIGN KEY ("revenueScheduleId") REFERENCES "RevenueSchedule"("id") ON DELETE SET NULL ON UPDATE CASCADE;

        -- AddForeignKey
        ALTER TABLE "Reconciliation" ADD CONSTRAINT "Reconciliation_reconciledById_fkey" FOREIGN KEY ("reconciledById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;
        """;

    private const string ReconciliationIndexes = """
        -- CreateIndex
        CREATE INDEX "Reconciliation_tenantId_status_idx" ON "Reconciliation"("tenantId", "status");

        -- CreateIndex
        CREATE INDEX "Reconciliation_revenueScheduleId_idx" ON "Reconciliation"("revenueScheduleId") WHERE "revenueScheduleId" IS NOT NULL;

        -- CreateIndex
        CREATE INDEX "RevenueSchedule_tenantId_open_idx" ON "RevenueSchedule"("tenantId", "scheduleDate") WHERE "status" NOT IN ('RECONCILED', 'WRITTEN_OFF');

        -- CreateIndex
        CREATE INDEX "DepositLineItem_tenantId_productSku_idx" ON "DepositLineItem"("tenantId", "productSku");
        """;

    private const string AddDataManagementPermissions = """
        -- AlterEnum
        ALTER TYPE "UserStatus" ADD VALUE 'LOCKED';

        -- AlterTable
        ALTER TABLE "Tenant" ADD COLUMN "dataRetentionDays" INTEGER NOT NULL DEFAULT 365;

        -- SeedPermissions
        INSERT INTO "Permission" ("code", "name", "category") VALUES
            ('admin.backup', 'Back up tenant data', 'data-management'),
            ('admin.restore', 'Restore tenant data', 'data-management');
        """;
}
