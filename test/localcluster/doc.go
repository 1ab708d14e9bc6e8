// Package localcluster runs a real Kubernetes control plane on one machine
// without a container runtime: etcd, kube-apiserver and
// kube-controller-manager as child processes, and a simulated node that
// binds Pods, gives each an address from 10.244.0.0/16 and serves Pylon's
// echo backend on it. Everything runs inside a private network namespace
// (see Isolate), so Pod and gateway addresses exist only there and no
// traffic can leave the machine. Every child process is in its own process
// group with a parent-death signal, and the namespace's PID 1 is the test
// binary itself, so nothing outlives a failed or interrupted run.
//
// With Pylon (StartWith) it also runs the real cert-manager's controllers
// for the CA issuer path (certmanager.go) and a CA ClusterIssuer,
// ClusterIssuerName, that signs with the cluster's CA.
package localcluster
