# wasmplug - top-level entry points; CMake (with Ninja) does the building.
#
#   make            library (shared + static), CLI, example plugins
#   make run        the main job: wasmplug serve with every HTTP example on
#                   127.0.0.1:8080 (build/serve.json), until Ctrl-C
#   make run-examples  the library demo: example plugins called from C and the CLI
#   make test       build everything and run every test through ctest
#   make bench      benchmarks (with bench/rust, the Wasmtime Rust API baseline);
#                   table on stdout, figures in build/bench/core.json
#   make bench-callgrind  instructions per operation of the rows with targets
#                   (valgrind); build/bench/callgrind.json
#   make bench-bindings  each host binding (bindings/) beside C: numeric call
#                   and 32 B echo; build/bench/bindings.json
#   make bench-peers  wasmplug beside Extism (the extism crate, built once into
#                   ~/.cache/wasmplug/peers): minimal call, echoes, fresh instance,
#                   guest-to-host call, cached load; build/bench/peers.json
#                   (BENCH_PEERS_ARGS=--quick: a smoke run)
#   make bench-http HTTP throughput of wasmplug serve (wrk on loopback) beside a
#                   native C handler and wasmtime serve 48.0.8; table on stdout,
#                   figures in build/bench/http.json (BENCH_HTTP_ARGS=--quick: a smoke run)
#   make sanitize   ASan + UBSan build in build-sanitize/, and the tests
#   make fuzz       libFuzzer (clang-19) on each harness of fuzz/ for
#                   FUZZ_SECONDS (default 60) in build-fuzz/; see HACKING.md
#   make install PREFIX=/usr/local
#
# Each of them first runs deps/setup.sh, which installs the Debian packages
# that are missing and checks for cargo, Go and Node.js (tens of ms when nothing
# is missing); WASMPLUG_NO_SETUP=1 skips it.

BUILD    ?= build
PREFIX   ?= /usr/local
JOBS     ?= $(shell nproc)
# "=", not ":=": looked at when cmake runs, after setup has installed ninja.
GENERATOR = $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
SETUP    := $(if $(WASMPLUG_NO_SETUP),,setup)

.PHONY: all setup configure run run-examples test bench bench-callgrind sanitize fuzz install clean

all: configure
	cmake --build $(BUILD) -j $(JOBS)

setup:
	@deps/setup.sh

configure: $(SETUP)
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release

run: all
	@echo "== wasmplug serve $(BUILD)/serve.json: every HTTP example, Ctrl-C stops it"
	@for u in $$(cat $(BUILD)/serve-urls.txt); do echo "   curl http://127.0.0.1:8080$$u"; done
	@echo "   curl -d 'any bytes' http://127.0.0.1:8080/python   (POST echoes)"
	@echo "   curl http://127.0.0.1:8080/api/items ; curl -H 'content-type: application/json' -d '{\"name\": \"milk\"}' http://127.0.0.1:8080/api/items"
	@echo "   curl http://127.0.0.1:8080/metrics"
	@exec $(BUILD)/bin/wasmplug serve $(BUILD)/serve.json

# The plugin examples of the library (not HTTP): example-host and wasmplug call.
run-examples: all
	@for p in hello-c hello-go hello-as; do \
	  echo "== $$p: greet(\"world\")"; \
	  $(BUILD)/bin/example-host $(BUILD)/plugins/$$p.wasm greet world || exit 1; \
	done
	@for p in callback-c callback-go callback-as; do \
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

# Instructions per operation of the rows with targets, under callgrind
# (repeatable where times on a shared machine are not); build/bench/callgrind.json.
.PHONY: bench-callgrind
bench-callgrind: all
	bench/callgrind/run.sh $(BUILD)

# Each host binding (bindings/<lang>/bench.sh) beside the same calls from C,
# against this build installed into $(BUILD)/stage; build/bench/bindings.json.
BENCH_BINDINGS_ARGS ?=
.PHONY: bench-bindings
bench-bindings: all
	cmake --install $(BUILD) --prefix $(CURDIR)/$(BUILD)/stage >/dev/null
	bench/bindings/run.py --build $(BUILD) $(BENCH_BINDINGS_ARGS)

# bench/peers/build.sh builds the Extism harness and guest once (cached);
# bench/peers/run.py runs both sides in alternating rounds.
BENCH_PEERS_ARGS ?=
.PHONY: bench-peers
bench-peers: all
	bench/peers/run.py --build $(BUILD) --out $(BUILD)/bench/peers.json $(BENCH_PEERS_ARGS)

# bench/http/run.py builds bench/http/native.c (row a) against $(BUILD)/lib;
# deps/tools/wasmtime-cli.sh builds the wasmtime serve baseline once (cached).
BENCH_HTTP_ARGS ?=
.PHONY: bench-http
bench-http: all
	deps/tools/wasmtime-cli.sh $(BUILD)/bin/wasmtime
	bench/http/run.py --build $(BUILD) --wasmtime $(BUILD)/bin/wasmtime --out $(BUILD)/bench/http.json $(BENCH_HTTP_ARGS)

sanitize: $(SETUP)
	@test -f build-sanitize/CMakeCache.txt || cmake -S . -B build-sanitize $(GENERATOR) \
	  -DCMAKE_BUILD_TYPE=Debug -DWASMPLUG_SANITIZE=ON
	cmake --build build-sanitize -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:handle_segv=0:handle_sigill=0:handle_sigbus=0:handle_sigfpe=0:allow_user_segv_handler=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest --test-dir build-sanitize --output-on-failure -j $(JOBS)

# Each harness runs in turn; its growing corpus is build-fuzz/corpus/NAME (the
# seeds in fuzz/corpus/NAME are only read), crashes go to build-fuzz/crashes/NAME/
# and libFuzzer's output to build-fuzz/fuzz-NAME.log.
FUZZ_BUILD   ?= build-fuzz
FUZZ_CC      ?= clang-19
FUZZ_SECONDS ?= 60
FUZZERS      ?= manifest wave abi http pw_map

fuzz: $(SETUP)
	@test -f $(FUZZ_BUILD)/CMakeCache.txt || CC=$(FUZZ_CC) cmake -S . -B $(FUZZ_BUILD) $(GENERATOR) \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWASMPLUG_FUZZ=ON -DWASMPLUG_GUESTS=OFF -DBUILD_TESTING=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZERS))
	@failed=; for f in $(FUZZERS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$f $(FUZZ_BUILD)/crashes/$$f; \
	  dict=; test -f fuzz/$$f.dict && dict=-dict=fuzz/$$f.dict; \
	  echo "== fuzz_$$f: $(FUZZ_SECONDS) s"; \
	  if $(FUZZ_BUILD)/bin/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 \
	       -print_final_stats=1 $$dict -artifact_prefix=$(FUZZ_BUILD)/crashes/$$f/ \
	       $(FUZZ_BUILD)/corpus/$$f fuzz/corpus/$$f > $(FUZZ_BUILD)/fuzz-$$f.log 2>&1; then \
	    grep -E '^#[0-9]+[[:space:]]+DONE' $(FUZZ_BUILD)/fuzz-$$f.log; \
	  else \
	    grep -v -E '^#[0-9]+[[:space:]]' $(FUZZ_BUILD)/fuzz-$$f.log | tail -n 30; \
	    echo "fuzz_$$f failed: the input is in $(FUZZ_BUILD)/crashes/$$f/, the log in $(FUZZ_BUILD)/fuzz-$$f.log"; \
	    failed="$$failed fuzz_$$f"; \
	  fi; \
	done; \
	test -z "$$failed" || { echo "failed:$$failed (HACKING.md: when a harness crashes)"; exit 1; }

install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build-sanitize
