# Makefile - the front door: wraps CMake the way neovim's Makefile does
#
#   make          install missing packages, configure and build (build/)
#   make test     build and run every test (ctest)
#   make demo     build and run the whole pipeline on embedded defaults
#   make bench    build and run the benchmarks (figures, not pass/fail)
#   make asan     build in build-asan/ with AddressSanitizer + UBSan and test
#   make fuzz     build the libFuzzer targets with clang and run each a while
#   make soak     the pipeline at half rate for SOAK_MINUTES; flat or not
#   make valgrind one short pipeline run under valgrind memcheck
#   make clean    remove the build folders
#
# Every target first runs deploy/install-deps.sh, which is silent and quick
# when every Debian package is already there.
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_FLAGS ?= --output-on-failure -j$(JOBS)

.PHONY: all deps build test demo bench asan fuzz soak valgrind clean

all: build

deps:
	@deploy/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	cd $(BUILD_DIR) && ctest $(CTEST_FLAGS)

# The demo needs only the executable: building the test suites and
# benchmarks first would take longer than the demo itself.
demo: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS) --target sentinel
	$(BUILD_DIR)/bin/sentinel demo

bench: build
	@SENTINEL_DEPS_EXTRA="r-base-core r-cran-surveillance" deploy/install-deps.sh || \
	    echo "bench: R's surveillance could not be installed; its column is skipped"
	bench/run.sh $(BUILD_DIR)

asan: deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DSENTINEL_SANITIZE=ON
	cmake --build $(ASAN_DIR) -j$(JOBS)
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_FLAGS)

# make fuzz: build the libFuzzer targets (tests/fuzz) with clang in
# $(FUZZ_DIR) and run each for FUZZ_SECONDS on its seed corpus; new inputs go
# to $(FUZZ_DIR)/corpus/, crashes to $(FUZZ_DIR)/artifacts/<target>/.
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= event_decode event_json config alert batch feed_json \
                feed_csv hl7 mllp http_api wire

fuzz:
	@SENTINEL_DEPS_EXTRA="clang libclang-rt-14-dev" deploy/install-deps.sh
	CC=clang cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DSENTINEL_FUZZ=ON
	cmake --build $(FUZZ_DIR) -j$(JOBS) --target fuzz
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) \
	    tests/fuzz/run.sh $(FUZZ_TARGETS)

# make soak: the pipeline's maximum rate measured, then SOAK_MINUTES
# (default 30) at half of it; memory, open files and spool depth of every
# daemon into a CSV, printed as a table over time with a flat-or-not
# verdict per daemon (bench/soak.sh).
SOAK_MINUTES ?= 30

soak: build
	SOAK_MINUTES=$(SOAK_MINUTES) bench/soak.sh $(BUILD_DIR)

# make valgrind: one short pipeline run with the analyzer and the collectors
# under memcheck (tests/e2e/valgrind.sh): no definite leaks, no invalid reads.
valgrind: build
	@SENTINEL_DEPS_EXTRA="valgrind" deploy/install-deps.sh
	tests/e2e/valgrind.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
