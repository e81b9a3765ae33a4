//go:build tools

// Package tools records the program this module builds (see kind/local/build.sh).
package tools

import _ "helm.sh/helm/v3/cmd/helm"
