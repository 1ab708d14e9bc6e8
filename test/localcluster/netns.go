package localcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// Address ranges routed to the loopback device inside the namespace: every
// address in them is local to the namespace and unreachable from outside.
const (
	PodCIDR     = "10.244.0.0/16"
	GatewayCIDR = "10.250.0.0/16"
)

const (
	// isolatedEnv marks a process already re-executed inside the namespace.
	isolatedEnv = "PYLON_LOCALCLUSTER_ISOLATED"
	// dirEnv names the directory the outer process created for the cluster.
	dirEnv = "PYLON_LOCALCLUSTER_DIR"
)

// Isolated reports whether this process runs inside the namespace Isolate
// creates.
func Isolated() bool { return os.Getenv(isolatedEnv) == "1" }

// Isolate makes the calling program run inside a new network and PID
// namespace. Outside one, it re-executes the program under
// `unshare --net --pid --fork --kill-child` and exits with its status (it
// never returns). Inside, it brings up the loopback device, routes the Pod
// and gateway ranges to it and lets closing SO_REUSEPORT listeners hand
// their queued connections on (enableRequestMigration), then returns nil.
//
// The re-executed program is PID 1 of its PID namespace: when it exits, for
// whatever reason, the kernel kills every process left in the namespace, and
// --kill-child kills it when unshare itself is interrupted. A PID namespace
// also lets the simulated node listen on any Pod address without root on
// the host network.
func Isolate() error {
	if Isolated() {
		return setUpLoopback()
	}
	args := []string{"--net", "--pid", "--fork", "--kill-child"}
	if os.Geteuid() != 0 {
		// Rootless: a user namespace maps us to root inside.
		args = append([]string{"--user", "--map-root-user"}, args...)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	args = append(args, "--", self)
	args = append(args, os.Args[1:]...)
	// The outer process owns the cluster's directory, so it is removed
	// even when the inner one is killed.
	dir, err := os.MkdirTemp("", "localcluster-")
	if err != nil {
		return err
	}
	cmd := exec.Command("unshare", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), isolatedEnv+"=1", dirEnv+"="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// Ctrl-C reaches the inner program through the terminal's process
	// group, and it shuts down itself. Any other termination signal kills
	// unshare, whose --kill-child then kills the inner program, whose
	// death ends every process of its PID namespace. Either way this
	// process lives on to remove the directory.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("start unshare: %w", err)
	}
	go func() {
		for s := range sigs {
			if s != syscall.SIGINT {
				_ = cmd.Process.Kill()
				continue
			}
			// unshare blocks SIGINT while it waits: pass it to the inner
			// program, for an interrupt that did not come from a terminal.
			for _, pid := range children(cmd.Process.Pid) {
				_ = syscall.Kill(pid, syscall.SIGINT)
			}
		}
	}()
	err = cmd.Wait()
	signal.Stop(sigs)
	if os.Getenv("LOCALCLUSTER_KEEP") == "" {
		_ = os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "local cluster files kept in %s\n", dir)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		os.Exit(0)
	case errors.As(err, &exit):
		os.Exit(exit.ExitCode())
	}
	return fmt.Errorf("run inside a private network namespace (unshare): %w", err)
}

func setUpLoopback() error {
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"route", "add", "local", PodCIDR, "dev", "lo"},
		{"route", "add", "local", GatewayCIDR, "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %v: %s: %w", args, out, err)
		}
	}
	return enableRequestMigration()
}

// tcpMigrateReq is the sysctl that lets the kernel move the connections
// queued on a closing SO_REUSEPORT listener to another listener of the
// same group (Linux 5.14+). Without it, a gateway replica that stops
// accepting resets the connections it had not accepted yet, however
// gracefully it drains. It is per network namespace: the harness sets it
// only inside the namespace Isolate made, never on the host.
const tcpMigrateReq = "/proc/sys/net/ipv4/tcp_migrate_req"

// enableRequestMigration sets tcp_migrate_req in this network namespace.
// A kernel without it is reported, not fatal: RequestMigration then says
// false and the gateway restart test can say why connections were reset.
func enableRequestMigration() error {
	if !Isolated() {
		return errors.New("tcp_migrate_req is only set inside the harness's own network namespace")
	}
	err := os.WriteFile(tcpMigrateReq, []byte("1\n"), 0o644)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "localcluster: this kernel has no %s; a draining gateway replica may reset queued connections\n", tcpMigrateReq)
		return nil
	}
	if err != nil {
		return fmt.Errorf("enable SO_REUSEPORT request migration in the cluster's network namespace: %w", err)
	}
	return nil
}

// RequestMigration reports whether the kernel moves the queued connections
// of a closing SO_REUSEPORT listener to another one, in this process's
// network namespace.
func RequestMigration() bool {
	b, err := os.ReadFile(tcpMigrateReq)
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// children lists the child processes of pid.
func children(pid int) []int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}
