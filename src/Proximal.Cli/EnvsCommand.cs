using System.CommandLine;
using Proximal.Envs;
using Proximal.Envs.Registry;

namespace Proximal.Cli;

/// <summary><c>proximal envs</c>: the registered tasks with their spaces and registered limits.</summary>
internal static class EnvsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object per env instead of a table." };
        var cmd = new Command("envs", "List the registered environments (id, observation and action spaces, episode limit, reward threshold).");
        cmd.Options.Add(json);
        cmd.SetAction(parseResult =>
        {
            bool asJson = parseResult.GetValue(json);
            if (!asJson) Console.WriteLine($"{"id",-28} {"observation",-28} {"action",-22} {"max steps",9} {"threshold",10}  description");
            foreach (var spec in EnvRegistry.Specifications)
            {
                string obs, act;
                try
                {
                    using var env = spec.Factory(EnvOptions.Default);
                    obs = env.ObservationSpace.ToString() ?? "";
                    act = env.ActionSpace.ToString() ?? "";
                }
                catch (Exception e)
                {
                    obs = act = $"(cannot build: {e.Message})";
                }
                if (asJson)
                    Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
                    {
                        id = spec.Id, observation_space = obs, action_space = act,
                        max_episode_steps = spec.MaxEpisodeSteps, reward_threshold = spec.RewardThreshold, description = spec.Description,
                    }));
                else
                    Console.WriteLine($"{spec.Id,-28} {obs,-28} {act,-22} {spec.MaxEpisodeSteps?.ToString() ?? "-",9} {spec.RewardThreshold?.ToString() ?? "-",10}  {spec.Description}");
            }
            return 0;
        });
        return cmd;
    }
}
