// Package buildinfo says which build of Pylon is running: the version and
// revision stamped at build time (-ldflags "-X main.version=... -X
// main.revision=..." in each command), else what the Go toolchain recorded
// in the binary, and the Go version. Both binaries print it for --version
// and export it as the pylon_build_info series.
package buildinfo
