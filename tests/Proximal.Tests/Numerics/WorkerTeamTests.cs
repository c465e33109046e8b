using System.Diagnostics;
using Proximal.Numerics;

namespace Proximal.Tests.Numerics;

[CollectionDefinition("WorkerTeam", DisableParallelization = true)]
public sealed class WorkerTeamCollection;

/// <summary>The shared helper threads: a round is over only when every part has run, however the threads are scheduled.</summary>
[Collection("WorkerTeam")]
public class WorkerTeamTests
{
    /// <summary>Part 1 marks its round done, at once on even rounds and after about 1 ms of work on odd ones; part 0 returns at once.</summary>
    private sealed class AlternatingSecondPart : IPartitionedWork
    {
        public int Round;
        public int CompletedRound = -1;

        public void RunPart(int part, int parts)
        {
            if (part == 0) return;
            if (Round % 2 == 1)
            {
                long end = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 1000;
                while (Stopwatch.GetTimestamp() < end) Thread.SpinWait(10);
            }
            Volatile.Write(ref CompletedRound, Round);
        }
    }

    [Fact]
    public void RunReturnsOnlyAfterEveryPartOfItsRoundEvenWhenTheLastRoundsSignalComesLate()
    {
        // A helper preempted between finishing round N (the caller, spinning, saw the count reach 0 and went on) and
        // signalling it: here it sleeps 3 ms there on every other round. Its late signal then lands inside round N + 1,
        // after the caller's reset; a caller that trusted the signal returned while part 1 of round N + 1 still ran.
        // Even rounds: part 1 is instant, so the caller sees the count reach 0 while it spins and returns; the helper
        // then sleeps 3 ms before its Set. Odd rounds: part 1 takes 1 ms, longer than the caller's spin, so the caller
        // waits for the signal — and the late Set of the even round arrives first.
        var work = new AlternatingSecondPart();
        int calls = 0;
        WorkerTeam.BeforeDoneSignalForTests = () => { Interlocked.Increment(ref calls); if (work.Round % 2 == 0) Thread.Sleep(3); };
        try
        {
            for (int round = 0; round < 200; round++)
            {
                work.Round = round;
                WorkerTeam.Run(work, 2);
                Assert.Equal(round, Volatile.Read(ref work.CompletedRound));
            }
        }
        finally { WorkerTeam.BeforeDoneSignalForTests = null; }
        Assert.True(calls > 0, "the helper thread never ran a part");
    }
}
