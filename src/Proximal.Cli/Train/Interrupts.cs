using System.Runtime.InteropServices;

namespace Proximal.Cli.Train;

/// <summary>
/// SIGINT (Ctrl-C), SIGTERM and SIGHUP (terminal closed) during training. None of them kills the process:
/// <list type="bullet">
/// <item>the first asks training to stop after the update in progress, then the model is saved;</item>
/// <item>a second one says that this is already happening (stopping is at the next iteration boundary; nothing is lost
///       by waiting) and that a third Ctrl-C quits without saving;</item>
/// <item>a third Ctrl-C calls <see cref="QuitWithoutSaving"/>, which states what is not saved and exits 130.
///       Repeated SIGTERM/SIGHUP never quit without saving.</item>
/// </list>
/// After SIGHUP a terminal stdout/stderr is pointed at /dev/null, so writing the closing lines cannot fail; the resume
/// command is also stored in the run's summary.json.
/// </summary>
internal sealed class Interrupts : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<PosixSignalRegistration> _registrations = new();
    private int _count, _ctrlC;

    public Interrupts()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
            _registrations.Add(PosixSignalRegistration.Create(signal, Handle));
    }

    public CancellationTokenSource Source => _cts;
    public CancellationToken Token => _cts.Token;
    /// <summary>Name of the first signal received ("Ctrl-C", "SIGTERM", "SIGHUP"), or null.</summary>
    public string? First { get; private set; }
    /// <summary>Shows a notice to the user (set by the progress display: a plain line, or the live bar's text).</summary>
    public Action<string> Notify { get; set; } = SafeConsole.Line;
    /// <summary>Called on the third Ctrl-C, from the signal thread; expected not to return (states what is lost, then exits).</summary>
    public Action? QuitWithoutSaving { get; set; }

    private void Handle(PosixSignalContext ctx)
    {
        ctx.Cancel = true; // never the default action (terminate): we stop and save instead
        string name = ctx.Signal switch { PosixSignal.SIGINT => "Ctrl-C", PosixSignal.SIGTERM => "SIGTERM", PosixSignal.SIGHUP => "SIGHUP", _ => ctx.Signal.ToString() };
        if (ctx.Signal == PosixSignal.SIGHUP) SafeConsole.DetachFromTerminal();
        int n = Interlocked.Increment(ref _count);
        int ctrlC = ctx.Signal == PosixSignal.SIGINT ? Interlocked.Increment(ref _ctrlC) : Volatile.Read(ref _ctrlC);
        if (n == 1)
        {
            First = name;
            Notify($"{name}: stopping after the update in progress, then saving the model…");
            _cts.Cancel();
            return;
        }
        if (ctx.Signal == PosixSignal.SIGINT && ctrlC >= 3 && QuitWithoutSaving is { } quit)
        {
            quit();
            return;
        }
        Notify($"{name} again: already stopping at the end of the current update (the next iteration boundary), " +
               "then the model is saved" + (ctx.Signal == PosixSignal.SIGINT ? "; Ctrl-C once more quits without saving." : "."));
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cts.Dispose();
    }
}

/// <summary>Console lines that never throw (a closed terminal must not turn a clean stop into a crash).</summary>
internal static class SafeConsole
{
    private static int _detached;

    public static void Line(string text)
    {
        try { Console.WriteLine(text); } catch (IOException) { } catch (ObjectDisposedException) { }
    }

    public static void Error(string text)
    {
        try { Console.Error.WriteLine(text); } catch (IOException) { } catch (ObjectDisposedException) { }
    }

    /// <summary>Points stdout/stderr that are terminals at /dev/null (as nohup does), so later writes succeed silently.</summary>
    public static void DetachFromTerminal()
    {
        if (Interlocked.Exchange(ref _detached, 1) == 1 || !OperatingSystem.IsLinux()) return;
        try
        {
            int fd = Open("/dev/null", 1 /* O_WRONLY */);
            if (fd < 0) return;
            if (!Console.IsOutputRedirected) Dup2(fd, 1);
            if (!Console.IsErrorRedirected) Dup2(fd, 2);
            Close(fd);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [DllImport("libc.so.6", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPStr)] string path, int flags);
    [DllImport("libc.so.6", EntryPoint = "dup2", SetLastError = true)]
    private static extern int Dup2(int oldFd, int newFd);
    [DllImport("libc.so.6", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
