using Proximal.MuJoCo.Binding;
using Proximal.MuJoCo.Envs;

namespace Proximal.MuJoCo.Tests;

public class BindingTests
{
    private const string Pendulum = """
        <mujoco>
          <option timestep="0.005" integrator="RK4"/>
          <worldbody>
            <body name="bob" pos="0 0 1">
              <joint name="swing" type="hinge" axis="0 1 0"/>
              <geom type="sphere" size="0.1" pos="0 0 -0.5" mass="2"/>
              <site name="tip" pos="0 0 -0.5"/>
            </body>
          </worldbody>
          <actuator><motor joint="swing" gear="3" ctrlrange="-1 1" ctrllimited="true"/></actuator>
        </mujoco>
        """;

    [Fact]
    public void LibraryReportsVersion222()
    {
        Assert.Equal(222, MuJoCoLibrary.Version);
    }

    [Fact]
    public void MissingLibraryExplainsHowToInstall()
    {
        MuJoCoLibrary.EnsureLoaded();
        var e = Assert.Throws<MuJoCoLibraryException>(() => MuJoCoLibrary.Open("libmujoco_not_installed.so.9.9.9"));
        Assert.Contains("libmujoco_not_installed.so.9.9.9", e.Message);
        Assert.Contains("apt-get install libmujoco2.2.2", e.Message);
        // A failed open leaves the working library in use.
        using var model = MjModel.FromXmlString(Pendulum);
        Assert.Equal(1, model.Nq);
    }

    [Fact]
    public void LibraryWithoutMuJoCoSymbolsIsRejected()
    {
        var e = Assert.Throws<MuJoCoLibraryException>(() => MuJoCoLibrary.Open("libm.so.6"));
        Assert.Contains("mj_version", e.Message);
    }

    [Fact]
    public void LoadsFromStringWithTheModelsOwnFacts()
    {
        using var model = MjModel.FromXmlString(Pendulum);
        Assert.Equal((1, 1, 1, 2, 1), (model.Nq, model.Nv, model.Nu, model.Nbody, model.Nsite));
        Assert.Equal(0.005, model.Timestep);
        Assert.Equal(MjIntegrator.RK4, model.Integrator);
        Assert.Equal([0.0, 2.0], model.BodyMass.ToArray());
        Assert.Equal([-1.0, 1.0], model.ActuatorCtrlRange.ToArray());
        Assert.Equal(1, model.BodyId("bob"));
        Assert.Equal(0, model.SiteId("tip"));
        Assert.Throws<ArgumentException>(() => model.BodyId("nope"));
    }

    [Fact]
    public void LoadsFromFileLikeFromString()
    {
        string path = Path.Combine(Path.GetTempPath(), $"proximal-mujoco-{Environment.ProcessId}.xml");
        File.WriteAllText(path, MuJoCoEnv.LoadEmbeddedModel("hopper.xml"));
        try
        {
            using var model = MjModel.FromXmlFile(path);
            Assert.Equal((6, 6, 3, 0.002), (model.Nq, model.Nv, model.Nu, model.Timestep));
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<FileNotFoundException>(() => MjModel.FromXmlFile("/nonexistent/model.xml"));
    }

    [Fact]
    public void BadXmlNamesTheProblem()
    {
        var e = Assert.Throws<MuJoCoException>(() => MjModel.FromXmlString("<mujoco><worldbody><body><joint type=\"bogus\"/></body></worldbody></mujoco>"));
        Assert.Contains("bogus", e.Message);
        Assert.Throws<MuJoCoException>(() => MjModel.FromXmlString("not xml at all"));
    }

    [Fact]
    public void StepFollowsThePendulumEquation()
    {
        using var model = MjModel.FromXmlString(Pendulum);
        using var data = new MjData(model);
        data.Reset();
        data.Qpos[0] = 0.3;
        data.Forward();
        // The site hangs 0.5 from the hinge at (0, 0, 1), rotated by q about +y: (−0.5 sin q, 0, 1 − 0.5 cos q).
        double dx = data.SiteXpos[0], dz = data.SiteXpos[2] - 1;
        Assert.Equal(-0.5 * Math.Sin(0.3), dx, 12);
        Assert.Equal(-0.5 * Math.Cos(0.3), dz, 12);
        data.Step([0.5f], substeps: 10, rnePostConstraint: true);
        Assert.Equal(0.05, data.Time, 12);
        Assert.Equal(0.5, data.Ctrl[0]);
        // Actuator force = gear × ctrl.
        Assert.Equal(1.5, data.QfrcActuator[0], 12);
        Assert.Equal(12, data.CfrcExt.Length);  // nbody (2) × 6
        Assert.Equal(20, data.Cinert.Length);
        Assert.Equal(12, data.Cvel.Length);
        Assert.Equal(6, data.Xpos.Length);
        Assert.Equal(6, data.Xipos.Length);
        Assert.Equal(6, data.SubtreeCom.Length);
        Assert.Equal(1, data.QfrcConstraint.Length);
        // Pendulum released at 0.3 rad swings toward 0 (gravity torque beats the 1.5 N·m motor).
        Assert.True(Math.Abs(data.Qpos[0]) < 0.3);
    }

    [Fact]
    public void WrongControlCountAndUseAfterDisposeThrow()
    {
        var model = MjModel.FromXmlString(Pendulum);
        var data = new MjData(model);
        Assert.Throws<ArgumentException>(() => data.Step([0f, 0f], 1, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Step(0));
        data.Dispose();
        Assert.Throws<ObjectDisposedException>(() => data.Qpos.Length);
        Assert.Throws<ObjectDisposedException>(() => data.Step(1));
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.BodyMass.Length);
    }
}
