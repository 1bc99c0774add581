using System.Net;
using System.Text.Json;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Commissable.Functions.Tests.Hosting;

public sealed class HostSelectionTests
{
    [Theory]
    [InlineData("/")]
    [InlineData("/anything")]
    [InlineData("/deep/path/x")]
    public async Task FUNCTION_TARGET_serves_that_one_function_at_every_path(string path)
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));

        var response = await host.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"path={path};base=", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, host.Recorder.Count);
    }

    [Fact]
    public async Task FUNCTION_TARGET_selects_a_CloudEvent_function_too()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.StorageName));

        var response = await host.Client.SendAsync(CloudEventRequests.Binary(ContractSamples.Read("example_binary_storage_StorageObjectData-simple.json")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, host.Recorder.Count);
    }

    [Theory]
    [InlineData("/favicon.ico")]
    [InlineData("/robots.txt")]
    public async Task Browser_noise_is_404_and_never_reaches_the_function(string path)
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));

        var response = await host.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, host.Recorder.Count);
    }

    [Fact]
    public async Task Cloud_Run_mode_binds_every_address_on_PORT()
    {
        var environment = FunctionTestHost.Target(FunctionTestHost.HttpName);
        environment["PORT"] = "9090";
        environment["K_SERVICE"] = FunctionTestHost.HttpName;
        await using var host = await FunctionTestHost.StartAsync(environment);

        var plan = host.App.Services.GetRequiredService<FunctionHostPlan>();

        Assert.Equal(FunctionHostMode.CloudRun, plan.Mode);
        Assert.Equal(IPAddress.Any, plan.BindAddress);
        Assert.Equal(9090, plan.Port);
        Assert.Equal(FunctionTestHost.HttpName, plan.Target);
    }

    [Theory]
    [InlineData(null, "127.0.0.1")]
    [InlineData("", "127.0.0.1")]
    [InlineData("demo-http", "0.0.0.0")]
    public void FUNCTION_TARGET_binds_every_address_only_on_Cloud_Run_which_sets_K_SERVICE(string? service, string address)
    {
        var environment = FunctionTestHost.Target(FunctionTestHost.HttpName);
        environment["K_SERVICE"] = service;

        var plan = FunctionHostPlan.Load(new DictionaryEnvironment(environment));

        Assert.Equal(FunctionHostMode.CloudRun, plan.Mode);
        Assert.Equal(FunctionTestHost.HttpName, plan.Target);
        Assert.Equal(IPAddress.Parse(address), plan.BindAddress);
    }

    [Fact]
    public async Task PORT_defaults_to_8080()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));

        Assert.Equal(8080, host.App.Services.GetRequiredService<FunctionHostPlan>().Port);
    }

    [Fact]
    public async Task Local_mode_serves_each_function_at_its_own_path()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Local());

        var http = await host.Client.GetAsync("/demo-http");
        var nested = await host.Client.GetAsync("/demo-http/backups/x");
        var storage = await host.Client.SendAsync(CloudEventRequests.Binary(ContractSamples.Read("example_binary_storage_StorageObjectData-simple.json"), path: "/demo-storage"));
        var audit = await host.Client.SendAsync(CloudEventRequests.Binary(
            ContractSamples.Read("example_binary_audit_LogEntryData-pubsubCreateTopic.json"), path: "/demo-audit", type: "google.cloud.audit.log.v1.written"));

        Assert.Equal("path=;base=/demo-http", await http.Content.ReadAsStringAsync());
        Assert.Equal("path=/backups/x;base=/demo-http", await nested.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, storage.StatusCode);
        Assert.Equal(HttpStatusCode.OK, audit.StatusCode);
        Assert.Equal(4, host.Recorder.Count);
        Assert.Equal(IPAddress.Loopback, host.App.Services.GetRequiredService<FunctionHostPlan>().BindAddress);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/nope")]
    [InlineData("/demo-httpx")]
    public async Task Local_mode_answers_404_with_the_paths_it_serves_elsewhere(string path)
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Local());

        var response = await host.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("NOT_FOUND", error.GetProperty("status").GetString());
        Assert.Contains("/demo-audit, /demo-http, /demo-storage", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, host.Recorder.Count);
    }

    [Fact]
    public async Task LOCAL_MODE_wins_over_FUNCTION_TARGET()
    {
        var environment = FunctionTestHost.Local();
        environment["FUNCTION_TARGET"] = FunctionTestHost.HttpName;
        await using var host = await FunctionTestHost.StartAsync(environment);

        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/demo-http")).StatusCode);
        Assert.Contains(host.Logs.WithSeverity("WARNING"), e => e.GetProperty("message").GetString()!.StartsWith("FUNCTION_TARGET is ignored", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Local_mode_listens_on_loopback_only()
    {
        // A real Kestrel on a free port: the one test that binds a socket, and only on 127.0.0.1.
        var environment = FunctionTestHost.Local();
        environment["PORT"] = "0";
        var logs = new TestLogSink();
        var builder = FunctionTestHost.CreateBuilder(environment, logs);
        FunctionTestHost.RegisterDemoFunctions(builder.Services);
        await using var app = FunctionHost.Build(builder);
        await app.StartAsync();
        try
        {
            var address = Assert.Single(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses);
            Assert.StartsWith("http://127.0.0.1:", address, StringComparison.Ordinal);

            using var client = new HttpClient { BaseAddress = new Uri(address) };
            var response = await client.GetAsync("/demo-http");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            var started = Assert.Single(logs.WithEvent("function.host.started"));
            Assert.Equal("Local", started.GetProperty("mode").GetString());
            Assert.Equal(address, Assert.Single(started.GetProperty("addresses").EnumerateArray()).GetString());
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public void An_unknown_FUNCTION_TARGET_fails_start_up_naming_the_variable_and_the_choices()
    {
        var builder = FunctionTestHost.CreateBuilder(FunctionTestHost.Target("pre-deploy-exprot"), new TestLogSink());
        builder.WebHost.UseTestServer();
        FunctionTestHost.RegisterDemoFunctions(builder.Services);

        var e = Assert.Throws<FunctionStartupException>(() => FunctionHost.Build(builder));

        Assert.Equal(
            "FUNCTION_TARGET 'pre-deploy-exprot' is not a function this image serves; set it to one of: demo-audit, demo-http, demo-storage.",
            e.Message);
        Assert.Equal(["FUNCTION_TARGET"], e.Variables);
    }

    [Fact]
    public void Without_FUNCTION_TARGET_or_LOCAL_MODE_start_up_fails_saying_how_to_choose()
    {
        var e = Assert.Throws<FunctionStartupException>(() => FunctionTestHost.CreateBuilder(FunctionTestHost.BaseEnvironment(), new TestLogSink()));

        Assert.Contains("FUNCTION_TARGET is not set", e.Message, StringComparison.Ordinal);
        Assert.Contains("pre-deploy-export, on-backup-completed, on-backup-audited, restore-verify, grant-app-user, retention-sweeper, catalog", e.Message, StringComparison.Ordinal);
        Assert.Contains("LOCAL_MODE=true", e.Message, StringComparison.Ordinal);
        Assert.Equal(["FUNCTION_TARGET"], e.Variables);
    }

    [Fact]
    public void A_host_with_no_function_registered_fails_start_up()
    {
        var builder = FunctionTestHost.CreateBuilder(FunctionTestHost.Local(), new TestLogSink());
        builder.WebHost.UseTestServer();

        var e = Assert.Throws<FunctionStartupException>(() => FunctionHost.Build(builder));

        Assert.Contains("No function is registered", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PORT", "http", "PORT must be a TCP port number from 0 to 65535; got 'http'")]
    [InlineData("PORT", "70000", "PORT must be a TCP port number from 0 to 65535")]
    [InlineData("LOCAL_MODE", "maybe", "LOCAL_MODE must be true or false; got 'maybe'")]
    [InlineData("LOG_LEVEL", "LOUD", "LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR; got 'LOUD'")]
    public void Invalid_host_variables_fail_start_up_naming_the_variable(string variable, string value, string expected)
    {
        var environment = FunctionTestHost.Target(FunctionTestHost.HttpName);
        environment[variable] = value;

        var e = Assert.Throws<FunctionStartupException>(() => FunctionTestHost.CreateBuilder(environment, new TestLogSink()));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Equal([variable], e.Variables);
    }

    [Fact]
    public async Task Functions_are_scoped_one_instance_per_request()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));

        await host.Client.GetAsync("/");
        await host.Client.GetAsync("/");

        Assert.Equal(2, host.Recorder.Constructed);
    }

    [Fact]
    public void Registering_two_functions_under_one_name_is_refused()
    {
        var services = new ServiceCollection();
        services.AddHttpFunction<DemoHttpFunction>("twice");

        var e = Assert.Throws<InvalidOperationException>(() => services.AddHttpFunction<DemoHttpFunction>("twice"));

        Assert.Contains("'twice'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("PreDeploy")]
    [InlineData("pre_deploy")]
    [InlineData("-x")]
    [InlineData("a/b")]
    public void Function_names_must_be_path_and_variable_safe(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddHttpFunction<DemoHttpFunction>(name));

        Assert.Contains("[a-z][a-z0-9-]{0,62}", e.Message, StringComparison.Ordinal);
    }
}
