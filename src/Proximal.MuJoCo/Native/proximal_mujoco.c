// Thin shim between Proximal's C# binding and libmujoco 2.2.2.
//
// Why a shim: C# then never mirrors mjModel/mjData field layouts (hundreds of fields that change
// between MuJoCo versions); it reads sizes and array pointers through plain functions, and one
// P/Invoke runs a whole env step (ctrl copy, frame_skip mj_step calls, mj_rnePostConstraint).
// libmujoco is opened with dlopen under a caller-given name, so a missing library is a clear error
// (and a test can simulate one) instead of a loader failure.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mujoco/mujoco.h>

#define PXM_EXPORT __attribute__((visibility("default")))

typedef int (*fn_version)(void);
typedef mjModel* (*fn_loadXML)(const char*, const mjVFS*, char*, int);
typedef void (*fn_model)(mjModel*);
typedef mjData* (*fn_makeData)(const mjModel*);
typedef void (*fn_data)(mjData*);
typedef void (*fn_md)(const mjModel*, mjData*);
typedef void (*fn_vfs)(mjVFS*);
typedef int (*fn_emptyFileVFS)(mjVFS*, const char*, int);
typedef int (*fn_findFileVFS)(const mjVFS*, const char*);
typedef int (*fn_name2id)(const mjModel*, int, const char*);

static struct {
  void* handle;
  fn_version version;
  fn_loadXML loadXML;
  fn_model deleteModel;
  fn_makeData makeData;
  fn_data deleteData;
  fn_md resetData, step, forward, rnePostConstraint;
  fn_vfs defaultVFS, deleteVFS;
  fn_emptyFileVFS makeEmptyFileVFS;
  fn_findFileVFS findFileVFS;
  fn_name2id name2id;
} mj;

// mju_error normally exits the process. We turn it into a return code: every shim entry that can
// reach mju_error arms a thread-local jump buffer first (VecEnv steps envs on several threads).
static __thread jmp_buf* pxm_jump;
static __thread char pxm_error[1024];

static void on_error(const char* msg) {
  snprintf(pxm_error, sizeof pxm_error, "%s", msg);
  if (pxm_jump) longjmp(*pxm_jump, 1);
  fprintf(stderr, "MuJoCo error outside a guarded call: %s\n", msg);
  abort();
}

// Warnings (e.g. an unstable simulation, which MuJoCo answers by resetting the data) are also
// counted in mjData.warning; printing each one would flood training logs.
static void on_warning(const char* msg) { (void)msg; }

#define GUARD_BEGIN(fail)                      \
  jmp_buf jb;                                  \
  jmp_buf* saved = pxm_jump;                   \
  if (setjmp(jb)) { pxm_jump = saved; return fail; } \
  pxm_jump = &jb;
#define GUARD_END() pxm_jump = saved;

PXM_EXPORT int pxm_last_error(char* buf, int len) {
  if (buf && len > 0) snprintf(buf, (size_t)len, "%s", pxm_error);
  return (int)strlen(pxm_error);
}

// Opens libmujoco under `libname` and resolves the API. Returns mj_version() (>0), or
// -1 when the library cannot be opened, -2 when a symbol is missing (message in err).
PXM_EXPORT int pxm_open(const char* libname, char* err, int errlen) {
  void* h = dlopen(libname, RTLD_NOW | RTLD_LOCAL);
  if (!h) { snprintf(err, (size_t)errlen, "%s", dlerror()); return -1; }
#define SYM(field, name)                                                        \
  do {                                                                          \
    *(void**)(&tmp.field) = dlsym(h, name);                                     \
    if (!tmp.field) { snprintf(err, (size_t)errlen, "symbol %s not found in %s", name, libname); dlclose(h); return -2; } \
  } while (0)
  __typeof__(mj) tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.handle = h;
  SYM(version, "mj_version");
  SYM(loadXML, "mj_loadXML");
  SYM(deleteModel, "mj_deleteModel");
  SYM(makeData, "mj_makeData");
  SYM(deleteData, "mj_deleteData");
  SYM(resetData, "mj_resetData");
  SYM(step, "mj_step");
  SYM(forward, "mj_forward");
  SYM(rnePostConstraint, "mj_rnePostConstraint");
  SYM(defaultVFS, "mj_defaultVFS");
  SYM(deleteVFS, "mj_deleteVFS");
  SYM(makeEmptyFileVFS, "mj_makeEmptyFileVFS");
  SYM(findFileVFS, "mj_findFileVFS");
  SYM(name2id, "mj_name2id");
#undef SYM
  void (**user_error)(const char*) = dlsym(h, "mju_user_error");
  void (**user_warning)(const char*) = dlsym(h, "mju_user_warning");
  if (!user_error || !user_warning) {
    snprintf(err, (size_t)errlen, "symbols mju_user_error/mju_user_warning not found in %s", libname);
    dlclose(h);
    return -2;
  }
  int v = tmp.version();
  if (v != mjVERSION_HEADER) {
    // Struct layouts below are compiled for the 2.2.2 headers; refuse any other library.
    snprintf(err, (size_t)errlen, "%s reports mj_version() = %d, expected %d", libname, v, mjVERSION_HEADER);
    dlclose(h);
    return v;
  }
  if (mj.handle && mj.handle != h) dlclose(mj.handle);
  mj = tmp;
  *user_error = on_error;
  *user_warning = on_warning;
  return v;
}

PXM_EXPORT int pxm_header_version(void) { return mjVERSION_HEADER; }

PXM_EXPORT mjModel* pxm_load_xml_file(const char* path, char* err, int errlen) {
  err[0] = 0;
  GUARD_BEGIN(NULL)
  mjModel* m = mj.loadXML(path, NULL, err, errlen);
  GUARD_END()
  return m;
}

static mjModel* load_from_vfs(const char* name, mjVFS* vfs, char* err, int errlen) {
  GUARD_BEGIN(NULL)
  mjModel* m = mj.loadXML(name, vfs, err, errlen);
  GUARD_END()
  return m;
}

// Loads a model from XML text via a one-file virtual file system.
PXM_EXPORT mjModel* pxm_load_xml_string(const char* xml, int len, char* err, int errlen) {
  err[0] = 0;
  mjVFS* vfs = (mjVFS*)malloc(sizeof(mjVFS));  // ~2 MB: never on the stack
  if (!vfs) { snprintf(err, (size_t)errlen, "out of memory allocating the virtual file system"); return NULL; }
  mj.defaultVFS(vfs);
  const char* name = "proximal_model.xml";
  mjModel* m = NULL;
  if (mj.makeEmptyFileVFS(vfs, name, len) != 0) {
    snprintf(err, (size_t)errlen, "could not create the in-memory model file");
  } else {
    memcpy(vfs->filedata[mj.findFileVFS(vfs, name)], xml, (size_t)len);
    m = load_from_vfs(name, vfs, err, errlen);
    if (!m && !err[0]) snprintf(err, (size_t)errlen, "%s", pxm_error);
  }
  mj.deleteVFS(vfs);
  free(vfs);
  return m;
}

PXM_EXPORT void pxm_delete_model(mjModel* m) { if (m) mj.deleteModel(m); }

// Index of a named body / site, or -1.
PXM_EXPORT int pxm_body_id(const mjModel* m, const char* name) { return mj.name2id(m, mjOBJ_BODY, name); }
PXM_EXPORT int pxm_site_id(const mjModel* m, const char* name) { return mj.name2id(m, mjOBJ_SITE, name); }

PXM_EXPORT mjData* pxm_make_data(const mjModel* m) {
  GUARD_BEGIN(NULL)
  mjData* d = mj.makeData(m);
  GUARD_END()
  return d;
}

PXM_EXPORT void pxm_delete_data(mjData* d) { if (d) mj.deleteData(d); }

// Mirrored by ModelInfo in C# (sequential layout): keep the field order in sync.
typedef struct {
  int nq, nv, nu, nbody, nsite, njnt, ngeom, integrator;
  double timestep;
  const double* body_mass;           // nbody
  const double* actuator_ctrlrange;  // nu x 2
  const unsigned char* actuator_ctrllimited;  // nu
  const double* jnt_range;           // njnt x 2
  const double* qpos0;               // nq
  int na;                            // activation states (dim of act)
} pxm_model_info;

PXM_EXPORT void pxm_model_info_get(const mjModel* m, pxm_model_info* o) {
  o->nq = m->nq; o->nv = m->nv; o->nu = m->nu; o->nbody = m->nbody;
  o->nsite = m->nsite; o->njnt = m->njnt; o->ngeom = m->ngeom; o->integrator = m->opt.integrator;
  o->timestep = m->opt.timestep;
  o->body_mass = m->body_mass;
  o->actuator_ctrlrange = m->actuator_ctrlrange;
  o->actuator_ctrllimited = m->actuator_ctrllimited;
  o->jnt_range = m->jnt_range;
  o->qpos0 = m->qpos0;
  o->na = m->na;
}

// Mirrored by ModelFacts in C#: the compiled physical facts that tests compare against Gymnasium's
// models (read-only views; the pointers stay valid for the life of the mjModel). Keep in sync.
typedef struct {
  double gravity[3];
  double density, viscosity;
  int solver, iterations, collision, cone;
  const double *body_pos, *body_ipos, *body_inertia;      // nbody x 3
  const int* jnt_type;                                    // njnt
  const unsigned char* jnt_limited;                       // njnt
  const double *jnt_pos, *jnt_axis;                       // njnt x 3
  const double* jnt_stiffness;                            // njnt
  const double *dof_armature, *dof_damping;               // nv
  const int *geom_type, *geom_contype, *geom_conaffinity, *geom_condim;  // ngeom
  const double *geom_size, *geom_friction;                // ngeom x 3
  const double *geom_margin, *geom_solref, *geom_solimp;  // ngeom x 1, x mjNREF, x mjNIMP
  const double* actuator_gear;                            // nu x 6
} pxm_model_facts;
_Static_assert(mjNREF == 2 && mjNIMP == 5, "MjModel.GeomSolref/GeomSolimp assume 2 and 5 parameters");

PXM_EXPORT void pxm_model_facts_get(const mjModel* m, pxm_model_facts* o) {
  for (int i = 0; i < 3; i++) o->gravity[i] = m->opt.gravity[i];
  o->density = m->opt.density; o->viscosity = m->opt.viscosity;
  o->solver = m->opt.solver; o->iterations = m->opt.iterations;
  o->collision = m->opt.collision; o->cone = m->opt.cone;
  o->body_pos = m->body_pos; o->body_ipos = m->body_ipos; o->body_inertia = m->body_inertia;
  o->jnt_type = m->jnt_type; o->jnt_limited = m->jnt_limited;
  o->jnt_pos = m->jnt_pos; o->jnt_axis = m->jnt_axis; o->jnt_stiffness = m->jnt_stiffness;
  o->dof_armature = m->dof_armature; o->dof_damping = m->dof_damping;
  o->geom_type = m->geom_type; o->geom_contype = m->geom_contype;
  o->geom_conaffinity = m->geom_conaffinity; o->geom_condim = m->geom_condim;
  o->geom_size = m->geom_size; o->geom_friction = m->geom_friction;
  o->geom_margin = m->geom_margin; o->geom_solref = m->geom_solref; o->geom_solimp = m->geom_solimp;
  o->actuator_gear = m->actuator_gear;
}

// Mirrored by DataPointers in C#. mj_makeData allocates every array once, so these stay valid
// for the life of the mjData.
typedef struct {
  double *time, *qpos, *qvel, *ctrl, *cfrc_ext, *xpos, *xipos, *subtree_com, *cinert, *cvel,
      *qfrc_actuator, *qfrc_constraint, *site_xpos;
  // The rest of the state that carries from one mj_step to the next (full-state save and restore).
  double *act, *qacc_warmstart;
} pxm_data_ptrs;

PXM_EXPORT void pxm_data_ptrs_get(mjData* d, pxm_data_ptrs* o) {
  o->time = &d->time; o->qpos = d->qpos; o->qvel = d->qvel; o->ctrl = d->ctrl;
  o->cfrc_ext = d->cfrc_ext; o->xpos = d->xpos; o->xipos = d->xipos; o->subtree_com = d->subtree_com;
  o->cinert = d->cinert; o->cvel = d->cvel; o->qfrc_actuator = d->qfrc_actuator;
  o->qfrc_constraint = d->qfrc_constraint; o->site_xpos = d->site_xpos;
  o->act = d->act; o->qacc_warmstart = d->qacc_warmstart;
}

PXM_EXPORT int pxm_reset(const mjModel* m, mjData* d) {
  GUARD_BEGIN(-1)
  mj.resetData(m, d);
  GUARD_END()
  return 0;
}

PXM_EXPORT int pxm_forward(const mjModel* m, mjData* d) {
  GUARD_BEGIN(-1)
  mj.forward(m, d);
  GUARD_END()
  return 0;
}

PXM_EXPORT int pxm_rne_post_constraint(const mjModel* m, mjData* d) {
  GUARD_BEGIN(-1)
  mj.rnePostConstraint(m, d);
  GUARD_END()
  return 0;
}

// One env step: ctrl = action (float -> double; NULL keeps d->ctrl), nstep mj_step calls, then
// mj_rnePostConstraint when rne != 0. Returns 0, or -1 after a MuJoCo error (pxm_last_error).
static void step_loop(const mjModel* m, mjData* d, int nstep, int rne) {
  for (int i = 0; i < nstep; i++) mj.step(m, d);
  if (rne) mj.rnePostConstraint(m, d);
}

PXM_EXPORT int pxm_step(const mjModel* m, mjData* d, const float* ctrl, int nctrl, int nstep, int rne) {
  if (ctrl) for (int i = 0; i < nctrl; i++) d->ctrl[i] = (double)ctrl[i];
  GUARD_BEGIN(-1)
  step_loop(m, d, nstep, rne);
  GUARD_END()
  return 0;
}

// The raw-simulator yardstick for benchmarks, entirely in C: for `steps` env steps, uniform random
// controls within ctrlrange, nstep mj_step calls, mj_rnePostConstraint; mj_resetData every
// `episode` env steps. No observation or reward work. Returns 0 or -1 after a MuJoCo error.
static void bench_raw_loop(const mjModel* m, mjData* d, long steps, int nstep, long episode, unsigned long long s) {
  mj.resetData(m, d);
  for (long t = 0; t < steps; t++) {
    if (episode > 0 && t > 0 && t % episode == 0) mj.resetData(m, d);
    for (int i = 0; i < m->nu; i++) {
      s ^= s << 13; s ^= s >> 7; s ^= s << 17;  // xorshift64: cheap, good enough for controls
      double u = (double)(s >> 11) * (1.0 / 9007199254740992.0);
      double lo = m->actuator_ctrlrange[2 * i], hi = m->actuator_ctrlrange[2 * i + 1];
      d->ctrl[i] = m->actuator_ctrllimited[i] ? lo + (hi - lo) * u : 2 * u - 1;
    }
    for (int i = 0; i < nstep; i++) mj.step(m, d);
    mj.rnePostConstraint(m, d);
  }
}

PXM_EXPORT int pxm_bench_raw(const mjModel* m, mjData* d, long steps, int nstep, long episode, unsigned long long seed) {
  GUARD_BEGIN(-1)
  bench_raw_loop(m, d, steps, nstep, episode, seed ? seed : 0x9E3779B97F4A7C15ULL);
  GUARD_END()
  return 0;
}
