package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pylon-dev/pylon/test/localcluster"
)

// env is the cluster every test shares: starting one takes about half a
// minute, so tests isolate themselves by namespace and hostname instead.
var env *localcluster.Env

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	paths, err := localcluster.DefaultPaths()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Missing binaries fail the package: a run that tested nothing must not
	// read as a pass. `make test` builds them first (TEST_DEPS).
	if missing := paths.Missing(); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: binaries not built, run `make e2e-deps` (or `make test`): %s\n", strings.Join(missing, ", "))
		return 1
	}
	if err := localcluster.Isolate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env, err = localcluster.StartWithPylon(ctx, paths, "")
	if err != nil {
		fmt.Fprintf(os.Stderr, "start local cluster: %v\n", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop local cluster: %v\n", err)
		}
	}()
	code := m.Run()
	if code != 0 {
		names := []string{"manager"}
		for _, gw := range env.Pylon.Gateways {
			names = append(names, gw.Name)
		}
		for _, name := range append(names, "kube-controller-manager", "cert-manager", "external-dns") {
			localcluster.DumpTail(env.LogPath(name), 40)
		}
	}
	return code
}
