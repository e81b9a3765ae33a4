//go:build tools

// Package tools records the program this module builds (see kind/local/build.sh).
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
