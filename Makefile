# kakaoauth — the two commands are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
PYTHON ?= python3

# Lambda name (lambdas/<dir>) per SAM logical id; `sam build` calls
# build-<LogicalId> with ARTIFACTS_DIR set (Metadata: BuildMethod: makefile).
FUNCTIONS := ValidateTokenFunction:validatetoken UpsertUserFunction:upsertuser \
	SetPasswordFunction:setpassword IssueTokensFunction:issuetokens \
	RecordFailureFunction:recordfailure
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"
GOARCH_LAMBDA ?= arm64

.PHONY: run test lint bench build tools clean

## run: bring the local stack up (moto, Kakao double, login endpoint on :8080)
run: tools
	$(GO) run ./cmd/kakaoauth local

## test: every test, moto and the Kakao double included
test: tools lint
	$(GO) test -count=1 -timeout 25m ./...

## lint: formatting, vet, and cfn-lint on the SAM template
lint: tools
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	cfn-lint template.yaml

## bench: benchmarks (speed and allocations), figures quoted in the README
bench: tools
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

## tools: what the tests need beyond Go, installed when missing
tools:
	@bash infra/install-tools.sh

## build: one arm64 bootstrap per function under build/<LogicalId>/
build:
	@for f in $(FUNCTIONS); do id=$${f%%:*}; dir=$${f##*:}; \
	  $(MAKE) --no-print-directory build-$$id ARTIFACTS_DIR=build/$$id || exit 1; done
	@ls -l build/*/bootstrap

define build_function
build-$(1):
	mkdir -p $$(ARTIFACTS_DIR)
	CGO_ENABLED=0 GOOS=linux GOARCH=$$(GOARCH_LAMBDA) $$(GO) build $$(LAMBDA_FLAGS) -o $$(ARTIFACTS_DIR)/bootstrap ./lambdas/$(2)
endef
$(foreach f,$(FUNCTIONS),$(eval $(call build_function,$(word 1,$(subst :, ,$(f))),$(word 2,$(subst :, ,$(f))))))

clean:
	rm -rf build .aws-sam
