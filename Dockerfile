# One image serves every function: FUNCTION_TARGET picks the one a Cloud Run service runs
# (pre-deploy-export, on-backup-completed, on-backup-audited, restore-verify, retention-sweeper,
# grant-app-user, catalog), PORT the port (Cloud Run sets it; 8080 otherwise).
#
#   docker build -t functions .
#   docker run --rm -p 8080:8080 -e FUNCTION_TARGET=catalog -e K_SERVICE=catalog -e GOOGLE_CLOUD_PROJECT=... functions
#
# The host binds 0.0.0.0 only when K_SERVICE is set, as Cloud Run sets it in every container;
# without it the host listens on 127.0.0.1, which a -p port mapping cannot reach.
# The host refuses to start without FUNCTION_TARGET (or LOCAL_MODE=true) and names every missing
# setting; see the README's "The functions (Cloud Run)" for the variables.

# ---- build: restore and publish with the SDK image ----
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# The build settings and central package versions first, then the projects the host references
# (functions/ only: tests and workflows are not part of the image).
COPY Directory.Build.props Directory.Packages.props ./
COPY functions/ functions/
# ReadyToRun: the host's code is compiled ahead of time, so a cold start (Cloud Run scales to
# zero) does not wait for the JIT. The functions benchmark publishes with these same flags.
RUN dotnet restore functions/Commissable.Functions/Commissable.Functions.csproj -r linux-x64
RUN dotnet publish functions/Commissable.Functions/Commissable.Functions.csproj \
      --no-restore -c Release -o /app -r linux-x64 --self-contained false \
      -p:PublishReadyToRun=true -p:UseAppHost=false

# ---- runtime: the ASP.NET Core runtime, and PostgreSQL 15's client programs ----
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# Content manifests are read from the backups' own bytes: pg_restore turns custom and directory
# exports into SQL text, pg_dump reads a restored database the same way, gzip -dc inflates .sql.gz
# (it fails on a cut-off file), setsid/setpriv make every such program die with the host. The
# client must be the instances' major (POSTGRES_15), so that a restored database is printed by the
# same pg_dump as its backup. The aspnet:10.0 tags are Ubuntu 24.04 (noble), whose own archive
# carries PostgreSQL 16 only, so the PostgreSQL project's apt repository is added with the script
# postgresql-common ships (its signing key comes with the package; no download outside apt).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates postgresql-common gzip util-linux \
 && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
 && apt-get install -y --no-install-recommends postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/* \
 && /usr/lib/postgresql/15/bin/pg_dump --version | grep -q ' 15\.' \
 && /usr/lib/postgresql/15/bin/pg_restore --version | grep -q ' 15\.' \
 && for program in gzip setsid setpriv; do command -v "$program" > /dev/null || exit 1; done
# Where the functions find pg_dump and pg_restore (BackupFunctions reads it, PostgresBinaries.LocateClient looks there only).
ENV PG_BIN_DIR=/usr/lib/postgresql/15/bin
WORKDIR /app
COPY --from=build /app ./

# The host binds PORT itself and ignores ASPNETCORE_URLS/HTTP_PORTS, which this base image sets.
ENV PORT=8080 \
    DOTNET_NOLOGO=1 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
EXPOSE 8080

# Never root: the base image's unprivileged "app" user (APP_UID, 1654). The host writes only
# private temporary directories (0700) under /tmp: a directory export's table of contents and
# pg_dump's password file (0600) while a content manifest is read, removed afterwards; mounted
# secrets (INSPECTOR_DB_PASSWORD_FILE) are readable by any user.
USER $APP_UID

ENTRYPOINT ["dotnet", "Commissable.Functions.dll"]
