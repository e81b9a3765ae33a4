//go:build tools

// Package tools records the programs this module builds, so that `go mod tidy`
// keeps their dependencies. It is never compiled: build.sh runs `go build` on
// each package path below.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"

	_ "cubit.dev/kind-local/tools/k8s/cmd/etcd"
)
