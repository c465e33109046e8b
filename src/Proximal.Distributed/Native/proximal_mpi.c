// Thin shim between Proximal's C# binding and Open MPI (libmpi.so.40: Open MPI 4.x and 5.x).
//
// Why a shim: Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are addresses of global
// symbols, not constants, so C# cannot name them. The shim resolves them with dlsym after opening
// libmpi itself (RTLD_GLOBAL: Open MPI's plugins need libmpi's symbols), so a missing library or one
// of another MPI's ABI (MPICH's handles are integers) is a clear error instead of a loader failure,
// and a single-process run never loads MPI at all.
//
// Every communication call takes a timeout: it starts the non-blocking form (MPI_I*) and polls
// MPI_Test until done or until the deadline passes (return 1). A rank that died or hangs then ends
// the job in bounded time (the caller names it and calls pxmpi_abort) instead of a silent hang.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mpi.h>

#define PXMPI_EXPORT __attribute__((visibility("default")))

static struct {
  void* handle;
  __typeof__(MPI_Init_thread)* init_thread;
  __typeof__(MPI_Initialized)* initialized;
  __typeof__(MPI_Finalize)* finalize;
  __typeof__(MPI_Abort)* abort_;
  __typeof__(MPI_Comm_rank)* comm_rank;
  __typeof__(MPI_Comm_size)* comm_size;
  __typeof__(MPI_Comm_set_errhandler)* set_errhandler;
  __typeof__(MPI_Get_library_version)* library_version;
  __typeof__(MPI_Error_string)* error_string;
  __typeof__(MPI_Iallreduce)* iallreduce;
  __typeof__(MPI_Ibcast)* ibcast;
  __typeof__(MPI_Iallgather)* iallgather;
  __typeof__(MPI_Ibarrier)* ibarrier;
  __typeof__(MPI_Isend)* isend;
  __typeof__(MPI_Irecv)* irecv;
  __typeof__(MPI_Test)* test;
  __typeof__(MPI_Get_count)* get_count;
  __typeof__(MPI_Cancel)* cancel;
  MPI_Comm world;
  MPI_Datatype f32, f64, byte;
  MPI_Op sum;
  MPI_Errhandler errors_return;
} mpi;

static char last_error[512];

PXMPI_EXPORT int pxmpi_last_error(char* buf, int len) {
  if (buf && len > 0) snprintf(buf, (size_t)len, "%s", last_error);
  return (int)strlen(last_error);
}

static int fail(int code) {
  if (code != MPI_SUCCESS && mpi.error_string) {
    char s[MPI_MAX_ERROR_STRING];
    int n = 0;
    if (mpi.error_string(code, s, &n) == MPI_SUCCESS) snprintf(last_error, sizeof last_error, "%s", s);
  }
  return code == MPI_SUCCESS ? 0 : -1;
}

// Opens libmpi under `libname` and resolves the calls and handles. Returns 0, or -1 when the library
// cannot be opened, -2 when it is not Open MPI's ABI (message in err). `version` receives
// MPI_Get_library_version's text.
PXMPI_EXPORT int pxmpi_open(const char* libname, char* err, int errlen, char* version, int versionlen) {
  if (mpi.handle) {
    snprintf(version, (size_t)versionlen, "(already open)");
    return 0;
  }
  void* h = dlopen(libname, RTLD_NOW | RTLD_GLOBAL);
  if (!h) { snprintf(err, (size_t)errlen, "%s", dlerror()); return -1; }
#define SYM(field, name)                                                                        \
  do {                                                                                          \
    *(void**)(&tmp.field) = dlsym(h, name);                                                     \
    if (!tmp.field) {                                                                           \
      snprintf(err, (size_t)errlen, "symbol %s not found in %s: not an Open MPI library", name, libname); \
      dlclose(h);                                                                               \
      return -2;                                                                                \
    }                                                                                           \
  } while (0)
#define HANDLE(field, type, name)                                                               \
  do {                                                                                          \
    void* p = dlsym(h, name);                                                                   \
    if (!p) {                                                                                   \
      snprintf(err, (size_t)errlen, "symbol %s not found in %s: not Open MPI's ABI", name, libname); \
      dlclose(h);                                                                               \
      return -2;                                                                                \
    }                                                                                           \
    tmp.field = (type)p;                                                                        \
  } while (0)
  __typeof__(mpi) tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.handle = h;
  SYM(init_thread, "MPI_Init_thread");
  SYM(initialized, "MPI_Initialized");
  SYM(finalize, "MPI_Finalize");
  SYM(abort_, "MPI_Abort");
  SYM(comm_rank, "MPI_Comm_rank");
  SYM(comm_size, "MPI_Comm_size");
  SYM(set_errhandler, "MPI_Comm_set_errhandler");
  SYM(library_version, "MPI_Get_library_version");
  SYM(error_string, "MPI_Error_string");
  SYM(iallreduce, "MPI_Iallreduce");
  SYM(ibcast, "MPI_Ibcast");
  SYM(iallgather, "MPI_Iallgather");
  SYM(ibarrier, "MPI_Ibarrier");
  SYM(isend, "MPI_Isend");
  SYM(irecv, "MPI_Irecv");
  SYM(test, "MPI_Test");
  SYM(get_count, "MPI_Get_count");
  SYM(cancel, "MPI_Cancel");
  HANDLE(world, MPI_Comm, "ompi_mpi_comm_world");
  HANDLE(f32, MPI_Datatype, "ompi_mpi_float");
  HANDLE(f64, MPI_Datatype, "ompi_mpi_double");
  HANDLE(byte, MPI_Datatype, "ompi_mpi_byte");
  HANDLE(sum, MPI_Op, "ompi_mpi_op_sum");
  HANDLE(errors_return, MPI_Errhandler, "ompi_mpi_errors_return");
#undef SYM
#undef HANDLE
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  text[0] = 0;
  tmp.library_version(text, &len);
  // The struct layouts this shim was compiled with (MPI_Status) are Open MPI's; refuse anything else.
  if (strncmp(text, "Open MPI v", 10) != 0) {
    snprintf(err, (size_t)errlen, "%s is not Open MPI (it reports \"%.80s\")", libname, text);
    dlclose(h);
    return -2;
  }
  char* nl = strchr(text, ',');
  if (nl) *nl = 0;
  snprintf(version, (size_t)versionlen, "%s", text);
  mpi = tmp;
  return 0;
}

// MPI_Init_thread(FUNNELED: only the thread that called init makes MPI calls), with errors returned
// rather than fatal so the caller can word them.
PXMPI_EXPORT int pxmpi_init(int* rank, int* size) {
  // Open MPI installs SIGSEGV/SIGBUS handlers for its backtraces unless told not to; the .NET runtime
  // relies on its own SIGSEGV handler (null references become exceptions).
  setenv("OMPI_MCA_opal_signal", "", 0);
  int done = 0;
  mpi.initialized(&done);
  if (!done) {
    int provided = 0;
    int rc = mpi.init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return fail(rc);
  }
  mpi.set_errhandler(mpi.world, mpi.errors_return);
  int rc = mpi.comm_rank(mpi.world, rank);
  if (rc == MPI_SUCCESS) rc = mpi.comm_size(mpi.world, size);
  return fail(rc);
}

PXMPI_EXPORT int pxmpi_finalize(void) { return fail(mpi.finalize()); }

PXMPI_EXPORT void pxmpi_abort(int code) {
  fflush(stdout);
  fflush(stderr);
  mpi.abort_(mpi.world, code);
  _Exit(code);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Polls the request until complete (0), the deadline passes (1), or an error (-1). Spins first (the
// common case on a dedicated core completes in microseconds), then yields so oversubscribed ranks
// (more ranks than cores) let the others run.
static int wait_for(MPI_Request* req, double timeout_s, MPI_Status* status) {
  double deadline = timeout_s > 0 ? now_seconds() + timeout_s : 0;
  MPI_Status ignored;
  if (!status) status = &ignored;
  for (long spins = 0;; spins++) {
    int flag = 0;
    int rc = mpi.test(req, &flag, status);
    if (rc != MPI_SUCCESS) return fail(rc);
    if (flag) return 0;
    if (spins > 200) sched_yield();
    if ((spins & 255) == 0 && timeout_s > 0 && now_seconds() > deadline) return 1;
  }
}

PXMPI_EXPORT int pxmpi_allreduce_sum_f32(float* buf, int n, double timeout_s) {
  MPI_Request req;
  int rc = mpi.iallreduce(MPI_IN_PLACE, buf, n, mpi.f32, mpi.sum, mpi.world, &req);
  return rc != MPI_SUCCESS ? fail(rc) : wait_for(&req, timeout_s, NULL);
}

PXMPI_EXPORT int pxmpi_allreduce_sum_f64(double* buf, int n, double timeout_s) {
  MPI_Request req;
  int rc = mpi.iallreduce(MPI_IN_PLACE, buf, n, mpi.f64, mpi.sum, mpi.world, &req);
  return rc != MPI_SUCCESS ? fail(rc) : wait_for(&req, timeout_s, NULL);
}

PXMPI_EXPORT int pxmpi_bcast_bytes(void* buf, int n, int root, double timeout_s) {
  MPI_Request req;
  int rc = mpi.ibcast(buf, n, mpi.byte, root, mpi.world, &req);
  return rc != MPI_SUCCESS ? fail(rc) : wait_for(&req, timeout_s, NULL);
}

PXMPI_EXPORT int pxmpi_allgather_f64(const double* send, int n, double* recv, double timeout_s) {
  MPI_Request req;
  int rc = mpi.iallgather(send, n, mpi.f64, recv, n, mpi.f64, mpi.world, &req);
  return rc != MPI_SUCCESS ? fail(rc) : wait_for(&req, timeout_s, NULL);
}

PXMPI_EXPORT int pxmpi_barrier(double timeout_s) {
  MPI_Request req;
  int rc = mpi.ibarrier(mpi.world, &req);
  return rc != MPI_SUCCESS ? fail(rc) : wait_for(&req, timeout_s, NULL);
}

PXMPI_EXPORT int pxmpi_send_f64(const double* buf, int n, int dest, int tag, double timeout_s) {
  MPI_Request req;
  int rc = mpi.isend(buf, n, mpi.f64, dest, tag, mpi.world, &req);
  return rc != MPI_SUCCESS ? fail(rc) : wait_for(&req, timeout_s, NULL);
}

// Receives up to `capacity` doubles from `source`; `count` receives how many arrived.
PXMPI_EXPORT int pxmpi_recv_f64(double* buf, int capacity, int source, int tag, double timeout_s, int* count) {
  MPI_Request req;
  MPI_Status status;
  int rc = mpi.irecv(buf, capacity, mpi.f64, source, tag, mpi.world, &req);
  if (rc != MPI_SUCCESS) return fail(rc);
  int w = wait_for(&req, timeout_s, &status);
  if (w != 0) return w;
  return fail(mpi.get_count(&status, mpi.f64, count));
}

// Non-blocking point-to-point for the chief/worker variant: start, then poll with pxmpi_test.
PXMPI_EXPORT int pxmpi_isend_f32(const float* buf, int n, int dest, int tag, MPI_Request* req) {
  return fail(mpi.isend(buf, n, mpi.f32, dest, tag, mpi.world, req));
}

PXMPI_EXPORT int pxmpi_irecv_f32(float* buf, int n, int source, int tag, MPI_Request* req) {
  return fail(mpi.irecv(buf, n, mpi.f32, source, tag, mpi.world, req));
}

// 1 when the request completed, 0 when not yet, -1 on error.
PXMPI_EXPORT int pxmpi_test(MPI_Request* req) {
  int flag = 0;
  int rc = mpi.test(req, &flag, MPI_STATUS_IGNORE);
  return rc != MPI_SUCCESS ? fail(rc) : flag;
}

PXMPI_EXPORT int pxmpi_wait(MPI_Request* req, double timeout_s) { return wait_for(req, timeout_s, NULL); }

// Cancels a pending request (a receive nobody will match) and completes it.
PXMPI_EXPORT int pxmpi_cancel(MPI_Request* req) {
  int rc = mpi.cancel(req);
  if (rc != MPI_SUCCESS) return fail(rc);
  return wait_for(req, 5.0, NULL);
}

PXMPI_EXPORT int pxmpi_request_size(void) { return (int)sizeof(MPI_Request); }
