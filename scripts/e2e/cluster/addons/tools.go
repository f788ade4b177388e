//go:build tools

// The add-on commands cluster.sh builds, so that `go mod tidy` keeps what they need.
package tools

import (
	_ "github.com/rancher/local-path-provisioner"
	_ "sigs.k8s.io/metrics-server/cmd/metrics-server"
)
