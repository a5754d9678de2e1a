#!/usr/bin/env bash
# One entry point for a new machine: installs what is missing, builds, then runs Podscape or
# every test.
#
#   packaging/dev.sh run [podscape options]   install, build, start the GUI
#   packaging/dev.sh test [ctest options]     install, build, run every test
#   packaging/dev.sh build                    install and build only
#
# BUILD_DIR (default: build) and BUILD_TYPE (default: RelWithDebInfo) may be set.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build_dir=${BUILD_DIR:-$root/build}
build_type=${BUILD_TYPE:-RelWithDebInfo}
command=${1:-}
[[ $# -gt 0 ]] && shift

usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

build() {
  "$here/install-deps.sh"
  if [[ ! -f "$build_dir/build.ninja" ]]; then
    cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type"
  fi
  # Two jobs keep the peak memory of a 2-core machine in check with Qt's headers.
  cmake --build "$build_dir" -- -j"$(nproc)"
}

case "$command" in
  run)
    build
    exec "$build_dir/app/podscape" "$@"
    ;;
  test)
    build
    cd "$build_dir"
    # The summary line CTest prints last ("100% tests passed, 0 tests failed out of N") is the verdict.
    exec ctest --output-on-failure -j"$(nproc)" "$@"
    ;;
  build)
    build
    ;;
  -h|--help|help)
    usage
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac
