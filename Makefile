# Labrador: a GitLab API v3 / CI API v1 server. `make run` starts it on
# SQLite under ./data; `make test` runs every test.

GO       ?= go
BIN      := bin/labrador
LISTEN   ?= 127.0.0.1:8080
DATA_DIR ?= ./data

OPENAPI_SPECS    := openapi/v3.bundled.yaml openapi/ci-v1.bundled.yaml
SWAGGER_UI_DIST  := openapi/node_modules/swagger-ui-dist
SWAGGER_UI_FILES := swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt \
	swagger-ui-standalone-preset.js swagger-ui-standalone-preset.js.LICENSE.txt \
	swagger-ui.css index.css favicon-16x16.png favicon-32x32.png \
	oauth2-redirect.html oauth2-redirect.js LICENSE NOTICE

.PHONY: all build run test test-short bench generate check-generated lint-spec swagger-ui clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/labrador

## run: build and start the server on SQLite under $(DATA_DIR)
run: build
	$(BIN) serve --listen $(LISTEN) --data-dir $(DATA_DIR)

## test: the whole suite (store on SQLite and PostgreSQL, server, conformance
## on SQLite), then the conformance suite again with the server on PostgreSQL
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...
	LABRADOR_CONFORMANCE_DATABASE=postgres $(GO) test -count=1 -timeout 20m ./conformance/

## bench: the throughput benchmarks (requests/s, p50/p99), printed per endpoint
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./server/

## generate: bundle openapi/ and regenerate gen/
generate:
	$(GO) generate ./gen

## check-generated: fail when the committed gen/ or bundles differ from openapi/
check-generated: generate
	@git diff --exit-code -- openapi gen || { echo "check-generated: gen/ or a bundle is stale; run make generate and commit" >&2; exit 1; }
	@test -z "$$(git status --porcelain --untracked-files=all -- openapi gen | grep -v node_modules)" || { git status --short -- openapi gen; echo "check-generated: untracked generated files" >&2; exit 1; }

# Node tools (lint, Swagger UI refresh) pinned by openapi/package-lock.json;
# never needed to build, run or test the server.
openapi/node_modules/.package-lock.json: openapi/package.json openapi/package-lock.json
	npm ci --prefix openapi --no-audit --no-fund

## lint-spec: Spectral (spectral:oas) over both bundled contracts; fails on any error
lint-spec: openapi/node_modules/.package-lock.json
	@for f in $(OPENAPI_SPECS); do test -f $$f || { echo "lint-spec: $$f is missing" >&2; exit 1; }; done
	npx --prefix openapi spectral lint --ruleset openapi/.spectral.yaml --fail-severity=error $(OPENAPI_SPECS)

## swagger-ui: refresh the vendored Swagger UI from the pinned swagger-ui-dist
## (index.html and swagger-initializer.js in dist/ are ours and stay)
swagger-ui: openapi/node_modules/.package-lock.json
	cd $(SWAGGER_UI_DIST) && cp $(SWAGGER_UI_FILES) $(CURDIR)/server/swaggerui/dist/
	node -p 'require("./$(SWAGGER_UI_DIST)/package.json").version' > server/swaggerui/dist/VERSION

clean:
	rm -rf bin
