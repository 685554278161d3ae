# referrald: the two entry points are `make run` and `make test`.
#
#   make setup   install the Debian packages for building and testing
#   make build   build build/release (Release)
#   make run     build, then serve on 127.0.0.1:8000 (SQLite, console mail)
#   make test    release + sanitizer builds, then every CTest test
#   make build-tsan  the ThreadSanitizer build (build/tsan), which make stress tests
#   make test-cluster  two instances, a streaming replica and nginx (tests/cluster)
#   make stress  the long crash, outage and soak checks (docs/RELIABILITY.md)
#   make clean   remove build/
#
# Builds stay at two parallel jobs: the machine has two cores and one Beast
# translation unit alone needs over a gigabyte to compile.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

JOBS ?= 2
CMAKE ?= cmake
GENERATOR := -G Ninja
RELEASE_DIR := build/release
# The build type packagers and users type, so `make test` (and CI) proves it
# builds: GCC 12 at -O3 once stopped it with a false warning that -O2 never
# showed. The sanitizer builds stay RelWithDebInfo for their stack traces.
RELEASE_TYPE := Release
ASAN_DIR := build/asan
TSAN_DIR := build/tsan
# Warnings are errors in every build made here (and so in CI); a plain
# `cmake` leaves them warnings (REFERRALD_WERROR in CMakeLists.txt).
CONFIGURE := $(CMAKE) -S . $(GENERATOR) -DREFERRALD_WERROR=ON

# The release build's CTest also runs the sanitizer build's tests, so one
# `ctest` in build/release covers both binaries.
ASAN_BINARY := $(CURDIR)/$(ASAN_DIR)/referrald
ASAN_UNIT := $(CURDIR)/$(ASAN_DIR)/tests/unit_tests
FUZZ_DIR := build/fuzz
TEST_FLAGS := -DREFERRALD_ASAN_BINARY=$(ASAN_BINARY) -DREFERRALD_ASAN_UNIT=$(ASAN_UNIT) \
	-DREFERRALD_FUZZ_DIR=$(CURDIR)/$(FUZZ_DIR)

# Extra builds `make test` needs before CTest runs: the sanitizer build and
# the libFuzzer build (clang), whose targets CTest runs briefly.
TEST_BUILDS := build-asan build-fuzz
FUZZ_SECONDS ?= 60

# ccache (CMake uses it when installed): paths relative to the checkout and
# no cwd in the hash, so another clone or worktree of the project on this
# machine (CI runs in a fresh clone) reuses the objects instead of recompiling.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

# Each recipe line runs in its own bash, so $SECONDS is that step's duration.
done = echo "make: $(1) took $${SECONDS}s"

.PHONY: setup setup-build setup-test setup-bench build build-release build-asan build-tsan build-fuzz run test ctest \
	test-cluster fuzz bench stress clean

setup: setup-test

setup-build:
	scripts/setup.sh build; $(call done,setup (build packages))

setup-test:
	scripts/setup.sh test; $(call done,setup (test packages))

setup-bench:
	scripts/setup.sh bench; $(call done,setup (bench packages))

build: setup-build build-release

build-release:
	$(CONFIGURE) -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=$(RELEASE_TYPE) $(RELEASE_FLAGS) >/dev/null
	$(CMAKE) --build $(RELEASE_DIR) -j $(JOBS); $(call done,build $(RELEASE_DIR))

build-asan:
	$(CONFIGURE) -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREFERRALD_SANITIZE=ON >/dev/null
	$(CMAKE) --build $(ASAN_DIR) -j $(JOBS); $(call done,build $(ASAN_DIR))

# Only the server binary: the API tests are what runs on it.
build-tsan:
	$(CONFIGURE) -B $(TSAN_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREFERRALD_TSAN=ON >/dev/null
	$(CMAKE) --build $(TSAN_DIR) -j $(JOBS) --target referrald; $(call done,build $(TSAN_DIR))

build-fuzz:
	CXX=clang++ $(CONFIGURE) -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREFERRALD_FUZZ=ON >/dev/null
	$(CMAKE) --build $(FUZZ_DIR) -j $(JOBS); $(call done,build $(FUZZ_DIR))

# Each fuzz target for FUZZ_SECONDS (make fuzz FUZZ_SECONDS=600).
fuzz: setup-test build-fuzz
	scripts/fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

# wrk against the release build on both engines; see docs/PERFORMANCE.md.
bench: setup-bench build-release
	bench/bench.py --binary $(RELEASE_DIR)/referrald --backend sqlite
	bench/bench.py --binary $(RELEASE_DIR)/referrald --backend postgresql

# The long forms of docs/RELIABILITY.md: kill -9 CRASH_KILLS times under the
# write load and stop PostgreSQL under load, on both engines, then
# SOAK_MINUTES of mixed load at 70% of capacity on each of SOAK_BACKENDS.
CRASH_KILLS ?= 20
SOAK_MINUTES ?= 10
SOAK_BACKENDS ?= sqlite postgresql
STRESS_TESTS := tests/api/test_crash_safety.py tests/api/test_db_outage.py
# The first data race report ends the server with exit code 66, which fails
# the test that started it (tests/api/harness.py also looks for the report).
TSAN_OPTIONS := halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/api/tsan.supp

stress: setup-bench build-release build-tsan
	for backend in sqlite postgresql; do \
	  REFERRALD_CRASH_KILLS=$(CRASH_KILLS) REFERRALD_BINARY=$(CURDIR)/$(RELEASE_DIR)/referrald \
	  REFERRALD_TEST_BACKEND=$$backend /usr/bin/python3 -m pytest $(STRESS_TESTS) -q -s -p no:cacheprovider; \
	done; $(call done,crash and outage checks)
	for backend in sqlite postgresql; do \
	  TSAN_OPTIONS="$(TSAN_OPTIONS)" REFERRALD_BINARY=$(CURDIR)/$(TSAN_DIR)/referrald \
	  REFERRALD_TEST_BACKEND=$$backend /usr/bin/python3 -m pytest tests/api -q -p no:cacheprovider; \
	done; $(call done,API tests under ThreadSanitizer)
	for backend in $(SOAK_BACKENDS); do \
	  bench/soak.py --binary $(RELEASE_DIR)/referrald --backend $$backend --minutes $(SOAK_MINUTES); \
	done; $(call done,soak)

run: setup-build build-release
	exec ./$(RELEASE_DIR)/referrald serve

# Sequential on purpose: the builds share two cores, and the release
# configure must see the sanitizer paths.
test: setup-test
	$(MAKE) --no-print-directory $(TEST_BUILDS)
	$(MAKE) --no-print-directory build-release RELEASE_FLAGS="$(TEST_FLAGS)"
	$(MAKE) --no-print-directory ctest

# The cluster test alone (CTest's `cluster` runs the same inside `make test`).
test-cluster: setup-test build-release
	ctest --test-dir $(RELEASE_DIR) --output-on-failure -R '^cluster$$'

# Nothing may print after CTest: its summary line closes the run.
ctest:
	ctest --test-dir $(RELEASE_DIR) --output-on-failure $(CTEST_ARGS)

clean:
	rm -rf build
