using Proximal.Common.Config;

namespace Proximal.Tests.Training;

public enum TestActivation { Tanh, Relu, LeakyRelu }

public sealed class TestPolicyOptions
{
    [Positive] public int[] HiddenSizes { get; init; } = [64, 64];
    public TestActivation Activation { get; set; } = TestActivation.Tanh;
    public bool OrthoInit { get; init; } = true;
}

public sealed record TestOptions
{
    [Positive] public float LearningRate { get; init; } = 3e-4f;
    [Positive] public int NSteps { get; init; } = 2048;
    public long TotalTimesteps { get; init; } = 1_000_000;
    [Range(0, 1)] public double Gamma { get; init; } = 0.99;
    [Range(0, 1, MinExclusive = true)] public double GaeLambda { get; set; } = 0.95;
    public float? ClipRangeVf { get; init; }
    [NonNegative] public double? TargetKl { get; init; }
    public string EnvId { get; init; } = "CartPole-v1";
    public string? Device { get; init; }
    public bool NormalizeAdvantage { get; init; } = true;
    public float[] LossWeights { get; init; } = [0.5f, 0.01f];
    public TestActivation? OptionalActivation { get; init; }
    public TestPolicyOptions Policy { get; init; } = new();
    public TestPolicyOptions? Critic { get; init; }
    [ConfigKey("vf_coef")] public float ValueCoefficient { get; init; } = 0.5f;
    [ConfigIgnore] public string Computed { get; set; } = "x";
    public int ReadOnlyDerived => NSteps * 2;
}

public sealed class ConfigBinderTests : IDisposable
{
    private readonly string _dir = TestDirs.Create();
    public void Dispose() => TestDirs.Delete(_dir);

    private static ConfigException Fails(string yaml, params string[] overrides) =>
        Assert.Throws<ConfigException>(() => ConfigBinder.Parse<TestOptions>(yaml, "ppo.yaml", overrides));

    [Fact]
    public void SnakeCaseNaming()
    {
        Assert.Equal("learning_rate", ConfigBinder.ToSnakeCase("LearningRate"));
        Assert.Equal("n_steps", ConfigBinder.ToSnakeCase("NSteps"));
        Assert.Equal("max_kl_divergence", ConfigBinder.ToSnakeCase("MaxKLDivergence"));
        Assert.Equal("layer2_size", ConfigBinder.ToSnakeCase("Layer2Size"));
        Assert.Equal("gamma", ConfigBinder.ToSnakeCase("Gamma"));
        Assert.Equal(
            ["learning_rate", "n_steps", "total_timesteps", "gamma", "gae_lambda", "clip_range_vf", "target_kl", "env_id", "device",
             "normalize_advantage", "loss_weights", "optional_activation", "policy.hidden_sizes", "policy.activation", "policy.ortho_init",
             "critic.hidden_sizes", "critic.activation", "critic.ortho_init", "vf_coef"],
            ConfigBinder.KeysOf(typeof(TestOptions)));
    }

    [Fact]
    public void BindsEveryTypeFromYaml()
    {
        var o = ConfigBinder.Parse<TestOptions>("""
            learning_rate: 2.5e-4
            n_steps: 128
            total_timesteps: 1e7
            gamma: 0.999
            clip_range_vf: ~
            target_kl: 0.015
            env_id: Acrobot-v1
            device: null
            normalize_advantage: false
            loss_weights: [1, 2.5]
            optional_activation: leaky_relu
            policy:
              hidden_sizes: [256, 128]
              activation: relu
            critic: {hidden_sizes: [32]}
            vf_coef: 0.25
            """, "ppo.yaml");
        Assert.Equal(2.5e-4f, o.LearningRate);
        Assert.Equal(128, o.NSteps);
        Assert.Equal(10_000_000L, o.TotalTimesteps);
        Assert.Equal(0.999, o.Gamma);
        Assert.Equal(0.95, o.GaeLambda); // default kept
        Assert.Null(o.ClipRangeVf);
        Assert.Equal(0.015, o.TargetKl);
        Assert.Equal("Acrobot-v1", o.EnvId);
        Assert.Null(o.Device);
        Assert.False(o.NormalizeAdvantage);
        Assert.Equal([1f, 2.5f], o.LossWeights);
        Assert.Equal(TestActivation.LeakyRelu, o.OptionalActivation);
        Assert.Equal([256, 128], o.Policy.HiddenSizes);
        Assert.Equal(TestActivation.Relu, o.Policy.Activation);
        Assert.True(o.Policy.OrthoInit);
        Assert.NotNull(o.Critic);
        Assert.Equal([32], o.Critic!.HiddenSizes);
        Assert.Equal(0.25f, o.ValueCoefficient);
    }

    [Fact]
    public void OverridesWinAndReachNestedKeys()
    {
        var o = ConfigBinder.Parse<TestOptions>("n_steps: 128\npolicy: {activation: relu}\n", "ppo.yaml",
            ["n_steps=512", "policy.hidden_sizes=[8,16]", "policy.activation=tanh", "critic.hidden_sizes=4,5",
             "env_id=My:Env#1", "device=null", "loss_weights=0.1", "clip_range_vf=0.2", "policy.ortho_init=False"]);
        Assert.Equal(512, o.NSteps);
        Assert.Equal([8, 16], o.Policy.HiddenSizes);
        Assert.Equal(TestActivation.Tanh, o.Policy.Activation);
        Assert.False(o.Policy.OrthoInit);
        Assert.Equal([4, 5], o.Critic!.HiddenSizes);
        Assert.Equal("My:Env#1", o.EnvId);
        Assert.Null(o.Device);
        Assert.Equal([0.1f], o.LossWeights);
        Assert.Equal(0.2f, o.ClipRangeVf);

        // A mapping override updates the nested options like a file does: unmentioned keys keep their values.
        var m = ConfigBinder.Parse<TestOptions>("policy: {hidden_sizes: [7]}", "ppo.yaml", ["policy={activation: relu}"]);
        Assert.Equal([7], m.Policy.HiddenSizes);
        Assert.Equal(TestActivation.Relu, m.Policy.Activation);
    }

    [Fact]
    public void UnknownKeyNamesItAndTheNearestKeysWithLine()
    {
        var e = Fails("gamma: 0.9\nlearnin_rate: 1e-3\n");
        Assert.StartsWith("ppo.yaml:2:1: unknown key 'learnin_rate'", e.Message);
        Assert.Contains("nearest valid keys: learning_rate", e.Message);
        Assert.Equal(2, e.Line);
        Assert.Equal("learnin_rate", e.Key);

        var nested = Fails("policy:\n  hiden_sizes: [1]\n");
        Assert.Contains("ppo.yaml:2:3: unknown key 'policy.hiden_sizes' (nearest valid keys: policy.hidden_sizes", nested.Message);

        var over = Fails("", "policy.activaton=relu");
        Assert.Contains("--set policy.activaton=relu: unknown key 'policy.activaton'", over.Message);
        Assert.Contains("policy.activation", over.Message);
    }

    [Fact]
    public void WrongTypeNamesKeyValueAndExpectedType()
    {
        Assert.Contains("ppo.yaml:1:10: key 'n_steps' has value 'lots' but expects an integer (int32)", Fails("n_steps: lots").Message);
        Assert.Contains("key 'n_steps' has value '2.5' but expects an integer", Fails("n_steps: 2.5").Message);
        Assert.Contains("allowed range -2147483648..2147483647", Fails("n_steps: 3000000000").Message);
        Assert.Contains("key 'normalize_advantage' has value 'maybe' but expects true or false", Fails("normalize_advantage: maybe").Message);
        Assert.Contains("expects one of: tanh, relu, leaky_relu", Fails("policy: {activation: sigmoid}").Message);
        Assert.Contains("key 'policy.hidden_sizes' element 1 has value 'x'", Fails("policy: {hidden_sizes: [1, x]}").Message);
        Assert.Contains("key 'gamma' expects a number, got a list", Fails("gamma: [1]").Message);
        Assert.Contains("key 'gamma' is null but expects a number", Fails("gamma: ~").Message);
        Assert.Contains("too large for float32", Fails("learning_rate: 1e50").Message);
        Assert.Contains("--set learning_rate=fast: key 'learning_rate' has value 'fast' but expects a number (float32)",
            Fails("", "learning_rate=fast").Message);
        Assert.Contains("expected key=value", Fails("", "learning_rate").Message);
        Assert.Contains("is not a group of options", Fails("", "gamma.x=1").Message);
        Assert.Equal("--set policy={hidden_sizes: [a]}: key 'policy.hidden_sizes' element 0 has value 'a' but expects an integer (int32).",
            Fails("", "policy={hidden_sizes: [a]}").Message);
        Assert.Contains("key 'policy' is a group of options and needs a mapping, got '3'", Fails("policy: 3").Message);
    }

    [Fact]
    public void RangeChecksNameKeyValueAndAllowedRange()
    {
        Assert.Contains("ppo.yaml:1:8: key 'gamma' has value 1.5 but must be in [0, 1]", Fails("gamma: 1.5").Message);
        Assert.Contains("key 'gae_lambda' has value 0 but must be in (0, 1]", Fails("gae_lambda: 0").Message);
        Assert.Contains("key 'n_steps' has value -4 but must be > 0", Fails("", "n_steps=-4").Message);
        Assert.Contains("key 'target_kl' has value -0.1 but must be >= 0", Fails("target_kl: -0.1").Message);
        Assert.Contains("key 'policy.hidden_sizes' element 1 has value 0 but must be > 0", Fails("policy: {hidden_sizes: [4, 0]}").Message);
        Assert.Contains("must be > 0", Fails("learning_rate: .nan").Message); // NaN fails every comparison
        // Values built in code are checked too.
        var e = Assert.Throws<ConfigException>(() => ConfigBinder.Validate(new TestOptions { Gamma = 2 }));
        Assert.Equal("key 'gamma' has value 2.0 but must be in [0, 1].", e.Message);
        ConfigBinder.Validate(new TestOptions());
    }

    [Fact]
    public void MalformedYamlAndFileProblemsAreConfigExceptions()
    {
        var e = Fails("gamma: 0.9\n  bad: [\n");
        Assert.StartsWith("ppo.yaml:", e.Message);
        Assert.Contains("invalid YAML", e.Message);
        Assert.Contains("top level must be a mapping", Fails("- 1\n- 2\n").Message);
        var dup = Fails("gamma: 0.9\ngamma: 0.8\n");
        Assert.Contains("ppo.yaml", dup.Message);
        var missing = Assert.Throws<ConfigException>(() => ConfigBinder.Load<TestOptions>(Path.Combine(_dir, "nope.yaml")));
        Assert.Contains("nope.yaml' does not exist", missing.Message);
        Assert.Equal(new TestOptions().NSteps, ConfigBinder.Parse<TestOptions>("", "empty.yaml").NSteps);
    }

    [Fact]
    public void SectionSelectsOneMapping()
    {
        const string yaml = "CartPole-v1:\n  n_steps: 32\nPendulum-v1:\n  n_steps: 1024\n  gamma: 0.9\n";
        var o = ConfigBinder.Parse<TestOptions>(yaml, "ppo.yaml", section: "Pendulum-v1");
        Assert.Equal((1024, 0.9), (o.NSteps, o.Gamma));
        var e = Assert.Throws<ConfigException>(() => ConfigBinder.Parse<TestOptions>(yaml, "ppo.yaml", section: "Hopper-v4"));
        Assert.Contains("no section 'Hopper-v4' (sections: CartPole-v1, Pendulum-v1)", e.Message);
    }

    [Fact]
    public void WriterRoundTripsEveryValueExactly()
    {
        var rng = new Proximal.Numerics.Rng(11);
        var original = new TestOptions
        {
            LearningRate = rng.NextFloat() * 1e-3f,
            NSteps = 4096,
            TotalTimesteps = 123_456_789_012,
            Gamma = 1 - rng.NextDouble() * 0.1,
            GaeLambda = 1.0 / 3,
            ClipRangeVf = 1e-5f,
            TargetKl = null,
            EnvId = "We\"ird \\ name: #1\n",
            Device = null,
            NormalizeAdvantage = false,
            LossWeights = [float.MaxValue, float.Epsilon, -0.0f, 1e20f, 3f],
            OptionalActivation = TestActivation.LeakyRelu,
            Policy = new TestPolicyOptions { HiddenSizes = [400, 300], Activation = TestActivation.Relu },
            Critic = null,
            ValueCoefficient = 0.1f,
        };
        string path = Path.Combine(_dir, "config.yaml");
        ConfigWriter.Write(path, original, "resolved config\nsecond line");
        string text = File.ReadAllText(path);
        Assert.StartsWith("# resolved config\n# second line\nlearning_rate: ", text);
        Assert.Contains("policy:\n  hidden_sizes: [400, 300]\n  activation: relu\n", text);
        Assert.Contains("clip_range_vf: 1.0E-05\n", text);
        Assert.Contains("critic: null\n", text);

        var back = ConfigBinder.Load<TestOptions>(path);
        Assert.Equal(BitConverter.SingleToInt32Bits(original.LearningRate), BitConverter.SingleToInt32Bits(back.LearningRate));
        Assert.Equal(original.Gamma, back.Gamma);
        Assert.Equal(original.GaeLambda, back.GaeLambda);
        Assert.Equal(original.TotalTimesteps, back.TotalTimesteps);
        Assert.Equal(original.ClipRangeVf, back.ClipRangeVf);
        Assert.Null(back.TargetKl);
        Assert.Equal(original.EnvId, back.EnvId);
        Assert.Null(back.Device);
        Assert.False(back.NormalizeAdvantage);
        Assert.Equal(original.LossWeights.Select(BitConverter.SingleToInt32Bits), back.LossWeights.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(original.OptionalActivation, back.OptionalActivation);
        Assert.Equal(original.Policy.HiddenSizes, back.Policy.HiddenSizes);
        Assert.Equal(original.Policy.Activation, back.Policy.Activation);
        Assert.Null(back.Critic);
        Assert.Equal(original.ValueCoefficient, back.ValueCoefficient);
        Assert.Equal(text[text.IndexOf("learning_rate", StringComparison.Ordinal)..], ConfigWriter.ToYaml(back));
    }

    [Fact]
    public void FloatsRoundTripThroughWriterForManyRandomValues()
    {
        var rng = new Proximal.Numerics.Rng(2);
        for (int i = 0; i < 300; i++)
        {
            float f = BitConverter.Int32BitsToSingle((int)rng.NextUInt64());
            double d = BitConverter.Int64BitsToDouble((long)rng.NextUInt64());
            if (!float.IsFinite(f) || !double.IsFinite(d) || d < 0 || d > 1 ) d = rng.NextDouble();
            if (!float.IsFinite(f) || f <= 0) f = rng.NextFloat() + 1e-30f;
            var o = new TestOptions { LearningRate = f, Gamma = d };
            var back = ConfigBinder.Parse<TestOptions>(ConfigWriter.ToYaml(o));
            Assert.Equal(BitConverter.SingleToInt32Bits(f), BitConverter.SingleToInt32Bits(back.LearningRate));
            Assert.Equal(BitConverter.DoubleToInt64Bits(d), BitConverter.DoubleToInt64Bits(back.Gamma));
        }
    }
}
