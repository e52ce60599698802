# Makefile — the commands a newcomer types. Each one installs what is missing (scripts/setup),
# configures CMake with Ninja in build/, builds with every core, and runs something:
#
#   make demo     the main demo, examples/12_fashion_mnist.cpp: Fashion-MNIST, one model trained
#                 eagerly and as a graph side by side, a table of what each cost, and a run
#                 directory of TensorBoard logs, drawings and checkpoints (make demo ARGS=--full:
#                 all 60000 images; the first example to read is examples/01_side_by_side.cpp)
#   make test     the whole test suite, through ctest
#   make test-long  the long searches ctest skips: 20000 random programs, eager against graphs
#                 with unknown dims (tests/test_property.cpp)
#   make bench    the benchmarks against PyTorch (bench/run_all.sh)
#   make assignment A=2   a classroom assignment: the students' tree and Gradescope's autograder,
#                 generated from this source into handout/a2/ (docs/teaching.md)
#   make grade    in a student's tree: builds and runs the assignment's tests, prints the score
#                 and writes build-grade/results.json (in this tree: make grade A=2 grades the
#                 reference, which scores 100%)
#   make clean    removes the build folders
#
# Knobs (make test CUDA=ON, say):
#   CUDA=OFF|AUTO|ON     build the CUDA backend too (OFF by default: nvcc is slow; AUTO when found)
#   BUILD_TYPE=Release   or Debug, RelWithDebInfo
#   BUILD_DIR=build      where CMake builds
#   CMAKE_ARGS=...       anything more for CMake, e.g. CMAKE_ARGS=-DTANDEM_NATIVE=OFF
#   ARGS=...             flags for make demo's program: ARGS=--full, ARGS="--data DIR --logdir DIR"
# The build itself is plain CMake, so `cmake -S . -B build -G Ninja && ninja -C build` works too.

BUILD_DIR ?= build
BUILD_TYPE ?= Release
CUDA ?= OFF
CMAKE_ARGS ?=
JOBS ?= $(shell nproc)

# The main demo; CMake names each example's program after its file. ARGS go to the program.
DEMO := 12_fashion_mnist
ARGS ?=

.PHONY: demo test test-long bench clean setup configure build assignment grade

demo: SETUP_FLAGS := --extras
test: SETUP_FLAGS := --extras
test-long: SETUP_FLAGS := --extras
bench: SETUP_FLAGS := --bench

setup:
	@scripts/setup $(SETUP_FLAGS)

# CMake's full output goes to $(BUILD_DIR)/configure.log; on success only Tandem's own lines and
# CMake's warnings show.
configure: setup
	@mkdir -p $(BUILD_DIR)
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DTANDEM_CUDA=$(CUDA) \
	  $(CMAKE_ARGS) > $(BUILD_DIR)/configure.log 2>&1 || { cat $(BUILD_DIR)/configure.log; exit 1; }
	@sed -n '/^-- Tandem:/p; /^CMake Warning/,/^$$/p' $(BUILD_DIR)/configure.log

build: configure
	ninja -C $(BUILD_DIR) -j $(JOBS)

demo: configure
	ninja -C $(BUILD_DIR) -j $(JOBS) $(DEMO)
	./$(BUILD_DIR)/$(DEMO) $(ARGS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j2

# Hidden Catch2 tests ([.] tags), which ctest does not list: run by name.
test-long: build
	TANDEM_PROPERTY_PROGRAMS=20000 ./$(BUILD_DIR)/tandem_tests "[property-long]"

# Only the benchmark programs are built (a test that does not compile does not stop them).
# bench/run_all.sh runs every benchmark and its PyTorch twin; it finds the programs in
# $TANDEM_BUILD_DIR. Without it, each bench program runs on its own.
BENCHES := $(basename $(notdir $(sort $(wildcard bench/*.cpp))))

bench: configure
	$(if $(BENCHES),ninja -C $(BUILD_DIR) -j $(JOBS) $(BENCHES))
	@if [ -f bench/run_all.sh ]; then \
	  TANDEM_BUILD_DIR="$(abspath $(BUILD_DIR))" bash bench/run_all.sh; \
	else \
	  found=; \
	  for name in $(BENCHES); do \
	    found=1; echo "== $(BUILD_DIR)/$$name"; ./$(BUILD_DIR)/$$name || exit 1; \
	  done; \
	  [ -n "$$found" ] || echo "make bench: no benchmarks yet (bench/run_all.sh, bench/*.cpp)"; \
	fi

# Classroom assignments (assignments/, docs/teaching.md). The generator and the grader are Python 3
# scripts of the standard library; the grader builds only the assignment's test program.
A ?=
assignment:
	@if [ ! -f assignments/assign.py ]; then \
	  echo "make assignment: this is a student's tree (no generator here); make grade grades it"; exit 1; fi
	@if [ -z "$(A)" ]; then echo "make assignment: which one? make assignment A=N, N one of:" \
	  $$(cd assignments && ls -d a[0-9]* | tr '\n' ' '); exit 1; fi
	python3 assignments/assign.py handout $(A)

grade: setup
	python3 assignments/grade.py $(if $(A),--assignment $(A)) --cuda $(CUDA) --jobs $(JOBS)

clean:
	rm -rf $(BUILD_DIR) build-asan build-cuda build-tsan build-fuzz build-grade build-assign
