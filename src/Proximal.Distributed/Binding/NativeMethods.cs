using System.Runtime.InteropServices;

namespace Proximal.Distributed.Binding;

/// <summary>P/Invoke into libproximal_mpi.so, the shim built from Native/proximal_mpi.c next to this assembly.</summary>
internal static unsafe partial class NativeMethods
{
    internal const string ShimLibrary = "proximal_mpi";

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_open", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string libraryName, byte* error, int errorLength, byte* version, int versionLength);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_last_error")]
    internal static partial int LastError(byte* buffer, int length);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_init")]
    internal static partial int Init(out int rank, out int size);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_finalize")]
    internal static partial int Finalize();

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_abort")]
    internal static partial void Abort(int code);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_allreduce_sum_f32")]
    internal static partial int AllReduceSum(float* buffer, int count, double timeoutSeconds);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_allreduce_sum_f64")]
    internal static partial int AllReduceSum(double* buffer, int count, double timeoutSeconds);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_bcast_bytes")]
    internal static partial int Broadcast(byte* buffer, int count, int root, double timeoutSeconds);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_allgather_f64")]
    internal static partial int AllGather(double* send, int count, double* receive, double timeoutSeconds);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_barrier")]
    internal static partial int Barrier(double timeoutSeconds);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_send_f64")]
    internal static partial int Send(double* buffer, int count, int destination, int tag, double timeoutSeconds);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_recv_f64")]
    internal static partial int Receive(double* buffer, int capacity, int source, int tag, double timeoutSeconds, out int count);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_isend_f32")]
    internal static partial int IsendF32(float* buffer, int count, int destination, int tag, nint* request);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_irecv_f32")]
    internal static partial int IrecvF32(float* buffer, int count, int source, int tag, nint* request);

    /// <summary>1: complete, 0: not yet, −1: error.</summary>
    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_test")]
    internal static partial int Test(nint* request);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_wait")]
    internal static partial int Wait(nint* request, double timeoutSeconds);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_cancel")]
    internal static partial int Cancel(nint* request);

    [LibraryImport(ShimLibrary, EntryPoint = "pxmpi_request_size")]
    internal static partial int RequestSize();

    internal static string Utf8(byte* s) => Marshal.PtrToStringUTF8((nint)s) ?? "";
}
