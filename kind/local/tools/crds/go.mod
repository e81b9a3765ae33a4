// Source-only module: pins the upstream projects whose CRDs kind/local installs.
// Nothing here is compiled; kind/local/lib/crds.sh runs `go mod download -json` in
// this directory to find each module's files in the module cache, and go.sum makes
// that download verifiable without the checksum database.
//
// Do not run `go mod tidy` here: with no Go code it would drop the requirements.
// After changing a version, refresh go.sum with:
//   go mod download github.com/kubeflow/training-operator volcano.sh/volcano istio.io/api
module cubit.dev/kind-local/tools/crds

go 1.24.0

require (
	github.com/kubeflow/training-operator v1.9.3
	istio.io/api v1.29.6
	volcano.sh/volcano v1.15.1
)
