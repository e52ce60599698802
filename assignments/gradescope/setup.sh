#!/usr/bin/env bash
# assignments/gradescope/setup.sh — Gradescope runs this once, as root, when it builds the
# autograder's image (its Ubuntu base image; the zip is unpacked in /autograder/source).
#
# It installs what Tandem's build needs, the same Debian/Ubuntu packages as scripts/setup:
# g++ (C++20), CMake >= 3.25, Ninja, Eigen, Catch2 2.x, stb, zlib, OpenBLAS. Ubuntu 22.04's CMake is
# 3.22, so where apt's is older than 3.25 CMake comes from PyPI (Kitware's wheels); where apt's g++
# is older than 12, g++-12 is installed beside it. Then it builds the engine once, here, so that
# grading a submission recompiles only the files the student wrote.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends build-essential ninja-build libeigen3-dev catch2 libstb-dev \
  zlib1g-dev libopenblas-dev libopenblas-openmp-dev python3 python3-pip cmake

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }
if ! version_ge "$(cmake --version | head -1 | awk '{print $3}')" 3.25; then
  python3 -m pip install --break-system-packages 'cmake>=3.25' 2>/dev/null || python3 -m pip install 'cmake>=3.25'
  hash -r
fi
if ! version_ge "$(g++ -dumpversion)" 12; then
  apt-get install -y --no-install-recommends g++-12
  echo "export CXX=g++-12" > /autograder/source/compiler.env
fi
# Catch2 2.x: Ubuntu 22.04 ships 2.13; Ubuntu 24.04's catch2 package is Catch2 3, which Tandem's
# tests are not written for. Choose the 22.04 base image in Gradescope's autograder settings.
if ! [ -f /usr/include/catch2/catch.hpp ]; then
  echo "setup.sh: this image has no Catch2 2.x (catch2/catch.hpp); use Gradescope's Ubuntu 22.04 base image" >&2
  exit 1
fi

cd /autograder/source
[ -f compiler.env ] && . ./compiler.env
python3 tandem/assignments/grade.py --assignment "$(cat assignment.txt)" --build-dir /autograder/source/build \
  --results /tmp/setup-results.json || true  # builds everything once; the stubs' score is thrown away
