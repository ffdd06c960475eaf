SHELL := /bin/bash
# mtproto: one Makefile for the NIF, the C tests, fuzzing, benchmarks and the two entry points.
#
#   make demo    set up a fresh machine if needed, then run the demo against the embedded test DC
#   make test    set up a fresh machine if needed, then run the C unit tests (ASan+UBSan) and ExUnit
#   make bench   benchmarks (bench/), printed as tables
#   make fuzz    every libFuzzer target under test/fuzz for FUZZ_SECONDS each (ASan+UBSan)
#   make nif     just the NIF (called by `mix compile` and `rebar3 compile`)

ERTS_INCLUDE_DIR ?= $(shell erl -noshell -eval 'io:format("~ts/erts-~ts/include", [code:root_dir(), erlang:system_info(version)])' -s init stop)
PKGS             := libcrypto zlib
OPENSSL_CFLAGS   ?= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
OPENSSL_LIBS     ?= $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcrypto -lz)

CC       ?= cc
CLANG    ?= $(shell command -v clang-14 || command -v clang)
OBJDIR   ?= _build/c
PRIV     ?= priv
NIF_SO   := $(PRIV)/mtproto_nif.so

WARN     := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -fPIC $(WARN) -fvisibility=hidden -MMD -MP $(OPENSSL_CFLAGS)

# c_src/*_nif.c (and mtproto_nif.c) are the only files that know erl_nif; the rest is plain C
# that the C unit tests and fuzz targets link directly.
ALL_SRCS  := $(wildcard c_src/*.c)
NIF_SRCS  := $(filter %_nif.c,$(ALL_SRCS))
CORE_SRCS := $(filter-out %_nif.c,$(ALL_SRCS))
NIF_OBJS  := $(patsubst c_src/%.c,$(OBJDIR)/nif/%.o,$(ALL_SRCS))

SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
TEST_CFLAGS = -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Ic_src -Itest/c $(OPENSSL_CFLAGS) -DMTPROTO_TESTING
CTESTS    := $(patsubst test/c/%.c,$(OBJDIR)/ctest/%,$(wildcard test/c/test_*.c))
FUZZERS   := $(patsubst test/fuzz/%.c,$(OBJDIR)/fuzz/%,$(wildcard test/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 30

.PHONY: all nif setup demo test ctest extest bench fuzz fuzz-build clean

all: nif

nif: $(NIF_SO) $(OBJDIR)/tl_schema.checked

# The TL schema check: every constructor id against the CRC32 of its line, every type defined.
# A failure names the file and line and fails the build.
TL_SCHEMAS := $(wildcard priv/schema/*.tl)
$(OBJDIR)/tl_schema_check: c_src/tl_tools/tl_schema_check.c c_src/tl_schema.c c_src/tl_schema_resolve.c \
                           c_src/tl_schema.h c_src/tl_schema_impl.h
	@mkdir -p $(dir $@)
	$(CC) -O1 -std=gnu11 $(WARN) -Ic_src $(filter %.c,$^) -o $@ $(OPENSSL_LIBS)

$(OBJDIR)/tl_schema.checked: $(OBJDIR)/tl_schema_check $(TL_SCHEMAS)
	$(OBJDIR)/tl_schema_check priv/schema
	@touch $@

$(NIF_SO): $(NIF_OBJS)
	@mkdir -p $(PRIV)
	$(CC) -shared -o $@ $^ $(OPENSSL_LIBS) $(LDFLAGS)

$(OBJDIR)/nif/%.o: c_src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(ERTS_INCLUDE_DIR) -c $< -o $@

-include $(NIF_OBJS:.o=.d)

setup:
	@scripts/setup

demo: setup
	mix mtproto.demo $(DEMO_ARGS)

test: setup ctest extest

extest:
	MIX_ENV=test mix test $(TEST_ARGS)

# C unit tests: each test/c/test_*.c is one program linked with the plain-C core, ASan + UBSan.
ctest: $(CTESTS)
	@set -e; for t in $(CTESTS); do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

$(OBJDIR)/ctest/%: test/c/%.c $(CORE_SRCS) $(wildcard c_src/*.h test/c/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(TEST_CFLAGS) $(SAN_FLAGS) $< $(CORE_SRCS) -o $@ $(OPENSSL_LIBS)

# libFuzzer targets: test/fuzz/fuzz_<name>.c, seeds in test/fuzz/corpus/<name>/.
fuzz-build: $(FUZZERS)

$(OBJDIR)/fuzz/%: test/fuzz/%.c $(CORE_SRCS) $(wildcard c_src/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(TEST_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $< $(CORE_SRCS) -o $@ $(OPENSSL_LIBS)

fuzz: setup fuzz-build
	@set -e; for f in $(FUZZERS); do \
	  name=$$(basename $$f); name=$${name#fuzz_}; \
	  work=$(OBJDIR)/fuzz/corpus/$$name; mkdir -p $$work; \
	  seeds=test/fuzz/corpus/$$name; [ -d $$seeds ] || seeds=; \
	  echo "== fuzz $$name for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$work $$seeds 2>&1 | grep -E 'stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|Done' ; \
	  test $${PIPESTATUS[0]} -eq 0; \
	done

# C benchmarks: bench/*_bench.c linked with the plain-C core, optimised as the NIF is.
CBENCHES := $(patsubst bench/%.c,$(OBJDIR)/bench/%,$(wildcard bench/*_bench.c))

$(OBJDIR)/bench/%: bench/%.c $(CORE_SRCS) $(wildcard c_src/*.h)
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=gnu11 $(WARN) -Ic_src $(OPENSSL_CFLAGS) $< $(CORE_SRCS) -o $@ $(OPENSSL_LIBS) -lpthread

# The peers measured in the same runs (gramjs) go into bench/.node first; without node/npm the
# benchmarks still run and say which comparisons they could not make.
bench: setup nif $(CBENCHES)
	@sh bench/setup_node.sh || echo "bench: gramjs not installed; its columns will say n/a"
	@set -e; for b in $(CBENCHES); do echo "== $$b"; $$b; done
	@set -e; for b in bench/*_bench.exs; do echo "== $$b"; MIX_ENV=bench mix run $$b; done

clean:
	rm -rf $(OBJDIR) $(NIF_SO)
