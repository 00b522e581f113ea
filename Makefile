# metervcr: record and replay AWS Marketplace Metering API calls.
GO      ?= go
BIN     := bin/metervcr
LISTEN  ?= 127.0.0.1:8089

.PHONY: build run test vet fmt-check tools js-deps bench demo clean

build:
	$(GO) build -o $(BIN) ./cmd/metervcr

## run: build, then replay the embedded demo cassette on $(LISTEN)
run: build
	./$(BIN) replay --listen $(LISTEN)

## test: formatting, vet, and every test with the race detector
test: fmt-check vet tools js-deps
	$(GO) test -race -count=1 ./...

## tools: the real clients the end-to-end tests drive, from Debian's
## packages when missing: the AWS CLI (awscli), Node.js with npm, boto3
## with pytest for Debian's /usr/bin/python3, and Chromium, which renders
## inspect's HTML page headless
tools:
	@missing=""; \
	[ -x /usr/bin/aws ] || missing="$$missing awscli"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	/usr/bin/python3 -c 'import boto3' 2>/dev/null || missing="$$missing python3-boto3"; \
	/usr/bin/python3 -c 'import pytest' 2>/dev/null || missing="$$missing python3-pytest"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing (Debian packages) for the end-to-end tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $$missing; \
	fi

## js-deps: install the JavaScript SDK that the tests drive, as tests/js/package-lock.json pins it
JS_DEPS := tests/js/node_modules/.package-lock.json
js-deps: $(JS_DEPS)
$(JS_DEPS): tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

## bench: benchmarks of the hot paths, with allocations, then the binary
## against bare net/http under load (BENCH_FLAGS, e.g. -duration 10s -rounds 3;
## see BENCHMARKS.md)
BENCH_FLAGS ?=
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./matcher ./cassettes ./cassettes/redact ./proxy ./cmd/metervcr
	$(GO) build -o bin/metervcr-bench ./cmd/metervcr-bench
	./bin/metervcr-bench -bin $(BIN) $(BENCH_FLAGS)

## demo: re-record the embedded demo cassette against the fake service
demo:
	$(GO) test ./proxy -run '^TestDemoCassette$$' -count=1 -update

clean:
	rm -rf bin
