#!/usr/bin/env bash
# Makes sure a built wheel of llama-cpp-python is in the wheel cache, and prints the cache.
# PyPI has only the source for this platform, and compiling llama.cpp takes minutes, so the
# wheel is built once (a portable CPU build) and kept: later installs take seconds.
set -eu
VERSION="${LLAMA_CPP_VERSION:-0.3.36}"
WHEELS="${BOMBE_WHEELS:-${BOMBE_CACHE:-$HOME/.cache/bombe}/wheels}"
PYTHON="${1:-python3}"
mkdir -p "$WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-"$VERSION"-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $VERSION once (compiles llama.cpp: a few minutes); kept in $WHEELS" >&2
  CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF}" \
    "$PYTHON" -m pip wheel -q --no-deps "llama-cpp-python==$VERSION" -w "$WHEELS" >&2
fi
echo "$WHEELS"
