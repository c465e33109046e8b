using System.Globalization;
using System.Text.Json;
using Proximal.MuJoCo.Binding;
using Proximal.MuJoCo.Envs;

namespace Proximal.MuJoCo.Tests;

/// <summary>
/// Our MJCF files are written for Proximal, not copied; these tests pin them to the compiled physical
/// facts of Gymnasium's v4 models (Data/model-facts/*.json, see the README there).
/// </summary>
public class ModelFactsTests
{
    private const double RelativeTolerance = 1e-9;

    public static TheoryData<string> Models => new(
        "hopper", "walker2d", "half_cheetah", "ant", "humanoid", "swimmer", "reacher", "inverted_pendulum", "inverted_double_pendulum");

    [Theory]
    [MemberData(nameof(Models))]
    public void OurModelCompilesToGymnasiumsFacts(string name)
    {
        using JsonDocument facts = LoadFacts(name);
        using var model = MjModel.FromXmlString(MuJoCoEnv.LoadEmbeddedModel(name + ".xml"));
        List<string> mismatches = Compare(facts.RootElement, model);
        Assert.True(mismatches.Count == 0, $"{name}.xml differs from Gymnasium's v4 model:\n" + string.Join("\n", mismatches));
    }

    [Theory]
    [InlineData("swimmer", "gear=\"150.0\" joint=\"motor2_rot\"", "gear=\"150.5\" joint=\"motor2_rot\"", "actuator_gear[6]")]
    [InlineData("hopper", "range=\"-45 45\"", "range=\"-45 46\"", "jnt_range[11]")]
    [InlineData("ant", "<option ", "<option density=\"1.2\" ", "density")]
    public void APerturbedFactIsReported(string name, string original, string perturbed, string expectedField)
    {
        string xml = MuJoCoEnv.LoadEmbeddedModel(name + ".xml");
        Assert.Contains(original, xml);
        using JsonDocument facts = LoadFacts(name);
        using var model = MjModel.FromXmlString(xml.Replace(original, perturbed));
        List<string> mismatches = Compare(facts.RootElement, model);
        Assert.Single(mismatches);
        Assert.StartsWith(expectedField + ":", mismatches[0]);
    }

    [Fact]
    public void UnknownFactNamesAreRejected()
    {
        using var model = MjModel.FromXmlString(MuJoCoEnv.LoadEmbeddedModel("swimmer.xml"));
        using JsonDocument facts = JsonDocument.Parse("""{ "body_volume": [1] }""");
        var e = Assert.Throws<InvalidDataException>(() => Compare(facts.RootElement, model));
        Assert.Contains("body_volume", e.Message);
    }

    private static JsonDocument LoadFacts(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Data", "model-facts", name + ".json");
        return JsonDocument.Parse(File.ReadAllText(path));
    }

    /// <summary>Every fact in the JSON against the compiled model; one line per differing value.</summary>
    private static List<string> Compare(JsonElement facts, MjModel model)
    {
        var tolerances = new Dictionary<string, double>();
        if (facts.TryGetProperty("tolerance_overrides", out JsonElement overrides))
            foreach (JsonProperty p in overrides.EnumerateObject()) tolerances[p.Name] = p.Value.GetDouble();

        var mismatches = new List<string>();
        foreach (JsonProperty fact in facts.EnumerateObject())
        {
            if (fact.Name is "source" or "tolerance_overrides") continue;
            double tolerance = tolerances.GetValueOrDefault(fact.Name, RelativeTolerance);
            double[] actual = Actual(model, fact.Name);
            double[] expected = fact.Value.ValueKind == JsonValueKind.Array
                ? fact.Value.EnumerateArray().Select(v => v.GetDouble()).ToArray()
                : [fact.Value.GetDouble()];
            if (expected.Length != actual.Length)
            {
                mismatches.Add($"{fact.Name}: {expected.Length} values expected, the model has {actual.Length}");
                continue;
            }
            for (int i = 0; i < expected.Length; i++)
            {
                // Relative, with a floor far below any physical value so exact zeros compare equal.
                double scale = Math.Max(Math.Max(Math.Abs(expected[i]), Math.Abs(actual[i])), 1e-12);
                if (Math.Abs(expected[i] - actual[i]) > tolerance * scale)
                {
                    string at = expected.Length == 1 && fact.Value.ValueKind != JsonValueKind.Array ? "" : $"[{i}]";
                    mismatches.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{fact.Name}{at}: Gymnasium {expected[i]:R}, ours {actual[i]:R}"));
                }
            }
        }
        return mismatches;
    }

    private static double[] Actual(MjModel m, string fact) => fact switch
    {
        "nq" => [m.Nq],
        "nv" => [m.Nv],
        "nu" => [m.Nu],
        "nbody" => [m.Nbody],
        "njnt" => [m.Njnt],
        "ngeom" => [m.Ngeom],
        "timestep" => [m.Timestep],
        "integrator" => [(int)m.Integrator],
        "solver" => [m.Solver],
        "iterations" => [m.SolverIterations],
        "collision" => [m.CollisionMode],
        "cone" => [m.Cone],
        "gravity" => m.Gravity.ToArray(),
        "density" => [m.Density],
        "viscosity" => [m.Viscosity],
        "qpos0" => m.Qpos0.ToArray(),
        "body_mass" => m.BodyMass.ToArray(),
        "body_inertia" => m.BodyInertia.ToArray(),
        "body_pos" => m.BodyPos.ToArray(),
        "body_ipos" => m.BodyIpos.ToArray(),
        "jnt_type" => ToDouble(m.JointType),
        "jnt_limited" => ToDouble(m.JointLimited),
        "jnt_range" => m.JointRange.ToArray(),
        "jnt_pos" => m.JointPos.ToArray(),
        "jnt_axis" => m.JointAxis.ToArray(),
        "jnt_stiffness" => m.JointStiffness.ToArray(),
        "dof_armature" => m.DofArmature.ToArray(),
        "dof_damping" => m.DofDamping.ToArray(),
        "geom_type" => ToDouble(m.GeomType),
        "geom_size" => m.GeomSize.ToArray(),
        "geom_friction" => m.GeomFriction.ToArray(),
        "geom_contype" => ToDouble(m.GeomContype),
        "geom_conaffinity" => ToDouble(m.GeomConaffinity),
        "geom_condim" => ToDouble(m.GeomCondim),
        "geom_margin" => m.GeomMargin.ToArray(),
        "geom_solref" => m.GeomSolref.ToArray(),
        "geom_solimp" => m.GeomSolimp.ToArray(),
        "actuator_gear" => m.ActuatorGear.ToArray(),
        "actuator_ctrlrange" => m.ActuatorCtrlRange.ToArray(),
        "actuator_ctrllimited" => ToDouble(m.ActuatorCtrlLimited),
        _ => throw new InvalidDataException($"Unknown model fact '{fact}' in the facts file: the test cannot check it."),
    };

    private static double[] ToDouble(ReadOnlySpan<int> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }

    private static double[] ToDouble(ReadOnlySpan<byte> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }
}
