// Package gen holds code generated from the contracts in ../openapi.
// Never edit the generated files: change openapi/ and run `make generate`.
package gen

//go:generate go run ../cmd/specbundle -root ../openapi/v3/openapi.yaml -out ../openapi/v3.bundled.yaml
//go:generate sh -c "cd v3api && go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config config.yaml ../../openapi/v3.bundled.yaml"
//go:generate sh -c "cd v3client && go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config config.yaml ../../openapi/v3.bundled.yaml"
//go:generate go run ../cmd/specbundle -root ../openapi/ci-v1/openapi.yaml -out ../openapi/ci-v1.bundled.yaml
//go:generate sh -c "cd civ1api && go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config config.yaml ../../openapi/ci-v1.bundled.yaml"
//go:generate sh -c "cd civ1client && go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config config.yaml ../../openapi/ci-v1.bundled.yaml"
