# One image serves every function: FUNCTION_TARGET picks the one a Cloud Run service runs
# (pre-deploy-export, on-backup-completed, on-backup-audited, restore-verify, retention-sweeper,
# grant-app-user, catalog), PORT the port (Cloud Run sets it; 8080 otherwise).
#
#   docker build -t functions .
#   docker run --rm -p 8080:8080 -e FUNCTION_TARGET=catalog -e GOOGLE_CLOUD_PROJECT=... functions
#
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

# ---- runtime: the ASP.NET Core runtime only ----
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./

# The host binds PORT itself and ignores ASPNETCORE_URLS/HTTP_PORTS, which this base image sets.
ENV PORT=8080 \
    DOTNET_NOLOGO=1 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
EXPOSE 8080

# Never root: the base image's unprivileged "app" user (APP_UID, 1654). The host writes nothing
# to disk; mounted secrets (INSPECTOR_DB_PASSWORD_FILE) are readable by any user.
USER $APP_UID

ENTRYPOINT ["dotnet", "Commissable.Functions.dll"]
