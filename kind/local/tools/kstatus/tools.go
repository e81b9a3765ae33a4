//go:build tools

// Package tools records the program this module builds (see kind/local/build.sh).
package tools

import _ "cubit.dev/kind-local/tools/kstatus/cmd/kstatus"
