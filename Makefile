# wasmplug - top-level entry points; CMake (with Ninja) does the building.
#
#   make            library (shared + static), CLI, example plugins
#   make run        the demo: example plugins in C and Go, called from C
#   make test       build everything and run every test through ctest
#   make bench      benchmarks (with bench/rust, the Wasmtime Rust API baseline);
#                   table on stdout, figures in build/bench/core.json
#   make sanitize   ASan + UBSan build in build-sanitize/, and the tests
#   make install PREFIX=/usr/local

BUILD    ?= build
PREFIX   ?= /usr/local
JOBS     ?= $(shell nproc)
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all configure run test bench sanitize install clean

all: configure
	cmake --build $(BUILD) -j $(JOBS)

configure:
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release

run: all
	@for p in hello-c hello-go; do \
	  echo "== $$p: greet(\"world\")"; \
	  $(BUILD)/bin/example-host $(BUILD)/plugins/$$p.wasm greet world || exit 1; \
	done
	@for p in callback-c callback-go; do \
	  echo "== $$p: callback(\"Nic\") -> host call_me"; \
	  $(BUILD)/bin/example-host $(BUILD)/plugins/$$p.wasm callback Nic || exit 1; \
	done
	@echo "== wasmplug call $(BUILD)/plugins/hello-go.wasm greet --input world"
	@$(BUILD)/bin/wasmplug call $(BUILD)/plugins/hello-go.wasm greet --input world --log off; echo
	@for p in hello-c-component hello-py-component hello-js-component; do \
	  echo "== wasmplug call $(BUILD)/plugins/$$p.wasm greet '\"world\"'"; \
	  $(BUILD)/bin/wasmplug call $(BUILD)/plugins/$$p.wasm greet '"world"' || exit 1; \
	done

test: all
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

bench: all
	bench/rust/build.sh $(BUILD)/bin/wasmplug-bench-rust
	$(BUILD)/bin/wasmplug-bench --out $(BUILD)/bench/core.json --rust-harness $(BUILD)/bin/wasmplug-bench-rust

sanitize:
	@test -f build-sanitize/CMakeCache.txt || cmake -S . -B build-sanitize $(GENERATOR) \
	  -DCMAKE_BUILD_TYPE=Debug -DWASMPLUG_SANITIZE=ON
	cmake --build build-sanitize -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:handle_segv=0:handle_sigill=0:handle_sigbus=0:handle_sigfpe=0:allow_user_segv_handler=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest --test-dir build-sanitize --output-on-failure -j $(JOBS)

install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build-sanitize
