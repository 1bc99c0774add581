using System.Text.Json.Nodes;

namespace Commissable.Functions.Tests.Hosting;

/// <summary>
/// The runtime settings the host ships with (its project writes them into
/// <c>Commissable.Functions.runtimeconfig.json</c>, which the image and the benchmarks publish).
/// </summary>
public sealed class RuntimeSettingsTests
{
    private static JsonObject ConfigProperties()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Commissable.Functions.runtimeconfig.json");
        Assert.True(File.Exists(path), $"{path} is missing: the test project no longer gets the host's runtime settings");
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        return root["runtimeOptions"]!["configProperties"]!.AsObject();
    }

    [Fact]
    public void The_managed_heap_is_capped_at_256_MiB_so_the_first_generation_is_collected_on_any_machine()
    {
        Assert.Equal(256L * 1024 * 1024, ConfigProperties()["System.GC.HeapHardLimit"]!.GetValue<long>());
    }

    [Fact]
    public void Methods_are_recompiled_at_tier_1_after_1024_calls_not_30()
    {
        // The runtime reads the knob with strtoul(value, 0): a number or a string of digits.
        var threshold = ConfigProperties()["System.Runtime.TieredCompilation.CallCountThreshold"]!;
        Assert.Equal(1024, int.Parse(threshold.ToString(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void The_host_uses_the_workstation_GC()
    {
        Assert.False(ConfigProperties()["System.GC.Server"]!.GetValue<bool>());
    }
}
