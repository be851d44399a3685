//go:build tools

// Package testbed pins the real kube-apiserver and etcd that the Kubernetes suites run
// against; scripts/provision/kube.sh builds them into a cache outside git.
package testbed

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
