# kakaoauth — the two commands are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
# The interpreter infra/install-tools.sh checks for the pinned Python
# packages (and makes .cache/python from when it lacks them); the moto
# layer (infra/moto/ext) runs under .cache/python's, else this one.
PYTHON ?= python3
export PYTHON

# Lambda name (lambdas/<dir>) per SAM logical id; `sam build` calls
# build-<LogicalId> with ARTIFACTS_DIR set (Metadata: BuildMethod: makefile).
# infra/templatecheck checks that this list and template.yaml's functions
# agree, and infra/rie builds and runs exactly these.
FUNCTIONS := ValidateTokenFunction:validatetoken UpsertUserFunction:upsertuser \
	SetPasswordFunction:setpassword IssueTokensFunction:issuetokens \
	RecordFailureFunction:recordfailure PreAuthFunction:preauth \
	UnlinkFunction:unlink UnlinkAuthorizerFunction:unlinkauthorizer \
	UnlinkWorkerFunction:unlinkworker \
	PreSignUpFunction:presignup SweeperFunction:sweeper ReconcilerFunction:reconciler \
	LinkFunction:link \
	DefineAuthChallengeFunction:defineauthchallenge CreateAuthChallengeFunction:createauthchallenge \
	VerifyAuthChallengeFunction:verifyauthchallenge
# -buildvcs=false: sam build copies the sources to a scratch directory, where
# VCS stamping would fail or vary; the binary needs no VCS information.
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -buildvcs=false -ldflags="-s -w"
GOARCH_LAMBDA ?= arm64
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d

# Python tools (moto_server, cfn-lint) from the virtual environment that
# infra/install-tools.sh makes in .cache/python when the machine's python3
# lacks the pinned versions or refuses pip installs; absent, PATH as it is.
export PATH := $(CURDIR)/.cache/python/bin:$(PATH)

# What `kakaoauth version` prints for a binary built here.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run test lint bench fuzz build tools tools-run install clean

## run: bring the local stack up (moto, Kakao double, login endpoint on :8080,
## Cognito's hosted UI on moto's address). Needs Go and Python only: the
## browser and Node are for the tests.
run: tools-run
	$(GO) run ./cmd/kakaoauth local -hosted-ui

## test: every test, moto and the Kakao double included
test: tools lint
	$(GO) test -count=1 -timeout 25m ./...

## lint: formatting, vet, then cfn-lint of template.yaml and of every stack
## in infra/templatecheck/lint-combos.txt (SAM transform, conditions resolved)
lint: tools
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	@PYTHON=$(PYTHON) bash infra/templatecheck/lint.sh

## bench: benchmarks (speed and allocations), figures quoted in docs/performance.md
bench: tools build
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

## fuzz: every Go fuzz target for FUZZTIME each, one after another (seeds
## and past findings in <package>/testdata/fuzz/ also run in `make test`)
FUZZTIME ?= 30s
fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) bash infra/fuzz.sh

## tools-run: what `make run` needs beyond Go (Python with moto), installed when missing
tools-run:
	@GO=$(GO) bash infra/install-tools.sh run

## tools: what the tests need beyond Go (moto, cfn-lint, Chromium, Node and
## velocityjs, aws-lambda-rie), installed when missing
tools:
	@GO=$(GO) bash infra/install-tools.sh test

## install: the kakaoauth CLI into $(go env GOPATH)/bin (put it on PATH)
install:
	$(GO) install -ldflags "-X main.version=$(VERSION)" ./cmd/kakaoauth
	@echo "installed $$($(GO) env GOPATH)/bin/kakaoauth ($(VERSION))"; \
	  command -v kakaoauth >/dev/null || echo "add $$($(GO) env GOPATH)/bin to PATH to run it as kakaoauth"

## build: one linux/arm64 bootstrap per function under build/<LogicalId>/
build:
	@for f in $(FUNCTIONS); do id=$${f%%:*}; \
	  $(MAKE) --no-print-directory build-$$id ARTIFACTS_DIR=$(CURDIR)/build/$$id || exit 1; done
	@ls -l build/*/bootstrap

define build_function
build-$(1):
	mkdir -p $$(ARTIFACTS_DIR)
	CGO_ENABLED=0 GOOS=linux GOARCH=$$(GOARCH_LAMBDA) $$(GO) build $$(LAMBDA_FLAGS) -o $$(ARTIFACTS_DIR)/bootstrap ./lambdas/$(2)
endef
$(foreach f,$(FUNCTIONS),$(eval $(call build_function,$(word 1,$(subst :, ,$(f))),$(word 2,$(subst :, ,$(f))))))

clean:
	rm -rf build .aws-sam
