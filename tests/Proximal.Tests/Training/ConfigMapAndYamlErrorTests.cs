using Proximal.Common.Config;

namespace Proximal.Tests.Training;

/// <summary>A test-only options class with a named-number mapping, as the env keyword options (env_kwargs) will use.</summary>
public sealed class MapTestOptions
{
    public long TotalSteps { get; set; } = 1000;
    public int NSteps { get; set; } = 32;
    public Dictionary<string, double> EnvKwargs { get; set; } = new();
}

public sealed class ConfigMapAndYamlErrorTests
{
    private static MapTestOptions Parse(string yaml, params string[] overrides) => ConfigBinder.Parse<MapTestOptions>(yaml, "run.yaml", overrides);
    private static ConfigException Fails(string yaml, params string[] overrides) => Assert.Throws<ConfigException>(() => Parse(yaml, overrides));

    [Fact]
    public void UnclosedFlowListIsAConfigErrorNamingFileKeyAndLine()
    {
        // YamlDotNet fails on this input with an InvalidOperationException that has no position.
        var e = Fails("total_steps: 100\nn_steps: [32\nlearning_rate: 1e-3\n");
        Assert.StartsWith("run.yaml:2:", e.Message);
        Assert.Contains("'n_steps'", e.Message);
        Assert.Contains("never closed", e.Message);
        Assert.Equal("n_steps", e.Key);
        Assert.Equal(2, e.Line);
        Assert.DoesNotContain('\n', e.Message);

        var brace = Fails("env_kwargs: {g: 1\nn_steps: 4\n");
        Assert.Contains("mapping '{'", brace.Message);
        Assert.Contains("never closed", brace.Message);

        var over = Fails("", "n_steps=[32");
        Assert.StartsWith("--set n_steps=[32:", over.Message);
    }

    [Fact]
    public void IntegerKeysTakeExponentAndUnderscoreSpellingsButNotFractions()
    {
        Assert.Equal(1_000_000, Parse("total_steps: 1e6").TotalSteps);
        Assert.Equal(1_000_000, Parse("total_steps: 1_000_000").TotalSteps);
        Assert.Equal(250_000, Parse("", "total_steps=2.5e5").TotalSteps);
        Assert.Equal(100_000, Parse("", "total_steps=100_000").TotalSteps);
        var e = Fails("total_steps: 1.5");
        Assert.Contains("run.yaml:1:14: key 'total_steps' has value '1.5' but expects an integer", e.Message);
        Assert.DoesNotContain("Int64", e.Message);
        Assert.DoesNotContain("System.", e.Message);
    }

    [Fact]
    public void NamedNumberMappingBindsFromYamlAndDottedOverrides()
    {
        var o = Parse("env_kwargs: {use_contact_forces: true, g: 9.81}\n");
        Assert.Equal(1.0, o.EnvKwargs["use_contact_forces"]);
        Assert.Equal(9.81, o.EnvKwargs["g"]);

        var block = Parse("env_kwargs:\n  ctrl_cost_weight: 1e-3\n  terminate: False\n");
        Assert.Equal(1e-3, block.EnvKwargs["ctrl_cost_weight"]);
        Assert.Equal(0.0, block.EnvKwargs["terminate"]);

        // A dotted --set sets one entry; a mapping updates the entries it names; null empties the mapping.
        var over = Parse("env_kwargs: {g: 9.81}\n", "env_kwargs.use_contact_forces=true", "env_kwargs.g=3.5", "env_kwargs={reset_noise_scale: 0.1}");
        Assert.Equal(new Dictionary<string, double> { ["g"] = 3.5, ["use_contact_forces"] = 1, ["reset_noise_scale"] = 0.1 }, over.EnvKwargs);
        Assert.Empty(Parse("env_kwargs: {g: 1}\n", "env_kwargs=null").EnvKwargs);
        Assert.Empty(Parse("env_kwargs: ~\n").EnvKwargs);
        Assert.Contains("env_kwargs", ConfigBinder.KeysOf(typeof(MapTestOptions)));
    }

    [Fact]
    public void NamedNumberMappingRejectsWhatIsNotANumberNamingTheEntry()
    {
        var e = Fails("n_steps: 4\nenv_kwargs: {g: heavy}\n");
        Assert.Equal("run.yaml:2:17: key 'env_kwargs.g' has value 'heavy' but expects a number or true/false.", e.Message);
        Assert.Equal(2, e.Line);
        Assert.Contains("key 'env_kwargs.g' expects a number or true/false, got a list", Fails("env_kwargs: {g: [1]}").Message);
        Assert.Contains("key 'env_kwargs' expects a mapping of names to numbers", Fails("env_kwargs: 3").Message);
        Assert.Contains("--set env_kwargs.g=up: key 'env_kwargs.g' has value 'up'", Fails("", "env_kwargs.g=up").Message);
    }

    [Fact]
    public void WriterRoundTripsNamedNumberMappings()
    {
        var o = new MapTestOptions { EnvKwargs = new() { ["use_contact_forces"] = 1, ["g"] = 9.81, ["odd key"] = -0.5, ["true"] = 2 } };
        string yaml = ConfigWriter.ToYaml(o);
        Assert.Contains("env_kwargs:\n  g: 9.81\n  \"odd key\": -0.5\n  \"true\": 2.0\n  use_contact_forces: 1.0\n", yaml);
        var back = ConfigBinder.Parse<MapTestOptions>(yaml);
        Assert.Equal(o.EnvKwargs, back.EnvKwargs);
        Assert.Contains("env_kwargs: {}", ConfigWriter.ToYaml(new MapTestOptions()));
        Assert.Empty(ConfigBinder.Parse<MapTestOptions>(ConfigWriter.ToYaml(new MapTestOptions())).EnvKwargs);
    }
}
