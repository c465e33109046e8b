#!/usr/bin/env bash
# Installs what Proximal needs on a fresh Debian machine (MuJoCo 2.2.2, gcc, Open MPI), then restores and builds (Release).
# Idempotent: skips apt when the packages are already there. Needs root (or sudo) for apt.
# --packages-only: install the packages, do not build (the ./proximal launcher builds only the CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
packages_only=false
[ "${1:-}" = "--packages-only" ] && packages_only=true

need=()
[ -e /usr/lib/x86_64-linux-gnu/libmujoco.so.2.2.2 ] || ldconfig -p 2>/dev/null | grep -q 'libmujoco.so.2.2.2' || need+=(libmujoco2.2.2)
# The MuJoCo binding compiles a small C shim (src/Proximal.MuJoCo/Native) against the 2.2.2 headers.
[ -e /usr/include/mujoco/mujoco.h ] || need+=(libmujoco-dev)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
# Distributed training (mpirun … --distributed): Open MPI's launcher and library, and mpi.h for the shim
# src/Proximal.Distributed/Native. Without them everything else builds and runs in one process.
command -v mpirun >/dev/null 2>&1 || need+=(openmpi-bin)
[ -e /usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h ] || need+=(libopenmpi-dev)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${need[*]} (apt)" >&2
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

$packages_only && exit 0
dotnet build Proximal.sln -c Release --nologo -v q -clp:ErrorsOnly
