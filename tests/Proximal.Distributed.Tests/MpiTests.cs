namespace Proximal.Distributed.Tests;

/// <summary>
/// The distributed tests proper: each launches `mpirun -np 2` on loopback with this assembly as the ranks' program
/// (<see cref="Worker"/>) and checks what rank 0 reports, or how the job ended.
/// </summary>
public sealed class MpiTests
{
    private static MpiRun.Outcome Ok(string scenario)
    {
        var o = MpiRun.Worker(scenario);
        Assert.True(o.ExitCode == 0 && o.Result is not null, $"mpirun {scenario} ended with {o.ExitCode}:\n{o.Output}");
        return o;
    }

    /// <summary>
    /// 2 ranks × 2 envs after one update hold the parameters of 1 process × 4 envs over the same transitions
    /// (same seeds, one minibatch per epoch so both see the same rows). Not bit-identical, by design of float32: the
    /// backward pass sums a minibatch's rows in one order in one process, while 2 ranks each sum their half and the
    /// all-reduce adds the halves. The tolerance (1e-6 absolute) is about 100× float32's rounding at these magnitudes
    /// and ≥ 3000× below the update itself; the negative control (rank 0's data alone, no reduction) must miss it.
    /// </summary>
    [Fact]
    public void TwoRanksEqualOneProcessWithAllTheEnvs_AfterOneUpdate_PpoA2cTrpo()
    {
        var r = Ok("equivalence").Result!;
        foreach (string algo in new[] { "ppo", "a2c", "trpo" })
        {
            var a = r[algo]!.AsObject();
            Assert.True(a["initial_equal"]!.GetValue<bool>(), $"{algo}: both layouts must start from the same parameters");
            Assert.True(a["ranks_identical"]!.GetValue<bool>(), $"{algo}: the ranks' parameters differ after the update");
            double diff = a["max_abs_diff"]!.GetValue<double>(), update = a["max_abs_update"]!.GetValue<double>(), control = a["control_max_abs_diff"]!.GetValue<double>();
            Assert.True(diff <= 1e-6, $"{algo}: 2 ranks differ from 1 process by {diff}");
            Assert.True(update > 3e-3, $"{algo}: the update moved parameters by only {update}; the comparison would prove nothing");
            Assert.True(control > 1e-3, $"{algo}: without the reduction the result should differ (control {control})");
        }
    }

    /// <summary>Normalisation statistics merged across ranks equal one process's over all rows (float64, to 1e-12); advantages normalised over both ranks equal the whole batch's.</summary>
    [Fact]
    public void StatisticsAndAdvantagesAreReducedOverAllRanks()
    {
        var r = Ok("statistics").Result!;
        Assert.True(r["statistics_max_abs_diff"]!.GetValue<double>() < 1e-12, r.ToJsonString());
        Assert.Equal(0, r["count_diff"]!.GetValue<double>());
        Assert.True(r["advantage_max_abs_diff_sum"]!.GetValue<double>() < 1e-6, r.ToJsonString());
    }

    /// <summary>Chief/worker: with D = 0 it is the all-reduce (bit for bit at K = 2); with D = 1 a straggler's gradients are dropped and counted while all ranks stay identical.</summary>
    [Fact]
    public void ChiefWorker_WMinusDRule()
    {
        var r = Ok("chief").Result!;
        Assert.True(r["d0_identical_to_allreduce"]!.GetValue<bool>(), r.ToJsonString());
        Assert.True(r["d1_ranks_identical"]!.GetValue<bool>(), r.ToJsonString());
        long dropped = r["d1_dropped"]!.GetValue<long>(), used = r["d1_used"]!.GetValue<long>(), updates = r["updates"]!.GetValue<long>();
        Assert.True(dropped > 0, $"the straggler (20 ms late per gradient) should have been dropped at least once: {r.ToJsonString()}");
        Assert.Equal(2 * updates, used + dropped); // every gradient is either used or dropped, none lost
    }

    [Fact]
    public void AHungRankEndsTheJobInBoundedTime_NamingIt()
    {
        var o = MpiRun.Worker("hang", rankTimeoutSeconds: 3);
        Assert.NotEqual(0, o.ExitCode);
        Assert.Contains("rank 1 did not reach", o.Output);
        Assert.True(o.Elapsed < TimeSpan.FromSeconds(45), $"took {o.Elapsed}");
    }

    [Fact]
    public void ADeadRankEndsTheJob_NamingIt()
    {
        var o = MpiRun.Worker("die", rankTimeoutSeconds: 3);
        Assert.NotEqual(0, o.ExitCode);
        Assert.Contains("rank 1", o.Output);
        Assert.True(o.Elapsed < TimeSpan.FromSeconds(45), $"took {o.Elapsed}");
    }

    [Fact]
    public void ParameterDriftFailsLoudly()
    {
        var o = MpiRun.Worker("drift");
        Assert.NotEqual(0, o.ExitCode);
        Assert.Contains("the parameters of rank 1 differ from rank 0's", o.Output);
    }
}
