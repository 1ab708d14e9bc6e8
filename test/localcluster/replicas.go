package localcluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Manager replicas: the local cluster runs two manager processes, as a
// Deployment with two replicas would, electing their leader through a
// Lease in SystemNamespace.
const (
	// ManagerReplicas is how many manager processes InstallPylon starts.
	ManagerReplicas = 2
	// ManagerLease is the manager's Lease (cmd/manager's LeaderElectionID).
	ManagerLease = "pylon-manager.pylon.dev"
	// GatewayLease is the gateway's status-writer Lease.
	GatewayLease = "pylon-gateway.pylon.dev"
	// ReplicaGroupPrefix starts a group only one process's client
	// certificate carries (ReplicaGroupPrefix + process name). Nothing is
	// bound to it: it names the process in the API server's audit log,
	// where user.groups tells the replicas apart (they share the
	// ServiceAccount's user name, so RBAC applies as in a Pod).
	ReplicaGroupPrefix = "localcluster.pylon.dev:process:"
)

// ManagerMetricsURL and ManagerHealthURL are where manager replica i
// serves its metrics and probes: replica 0 on 8080/8081 (the ports tests
// read), replica i on 8080+2i/8081+2i.
func ManagerMetricsURL(i int) string {
	return "http://127.0.0.1:" + strconv.Itoa(8080+2*i) + "/metrics"
}

// ManagerHealthURL is replica i's readiness endpoint.
func ManagerHealthURL(i int) string {
	return "http://127.0.0.1:" + strconv.Itoa(8081+2*i) + "/readyz"
}

// managerReplicas returns the manager processes (not started), each with a
// kubeconfig of its own (ProcessKubeconfig), reading the gateways' metrics
// at gatewayMetricsURLs.
func (c *Cluster) managerReplicas(bin string, gatewayMetricsURLs []string) ([]*Process, error) {
	out := make([]*Process, ManagerReplicas)
	for i := range out {
		name := "manager"
		if i > 0 {
			name = "manager-" + strconv.Itoa(i)
		}
		kc, err := c.ProcessKubeconfig(name, ManagerUser)
		if err != nil {
			return nil, err
		}
		out[i] = &Process{Name: name, Path: bin, LogPath: c.logPath(name), Env: []string{"KUBECONFIG=" + kc}, Args: []string{
			// Plain HTTP metrics on loopback: tests scrape the manager's own series.
			"--health-probe-bind-address=127.0.0.1:" + strconv.Itoa(8081+2*i),
			"--metrics-bind-address=127.0.0.1:" + strconv.Itoa(8080+2*i), "--metrics-secure=false",
			"--leader-elect=true", "--leader-elect-namespace=" + SystemNamespace,
			// The gateways run as processes here, not behind a Service: the
			// manager reads their admin endpoints for canary figures.
			"--gateway-metrics-url=" + strings.Join(gatewayMetricsURLs, ","),
		}}
	}
	return out, nil
}

// ProcessKubeconfig writes the kubeconfig of the harness process name,
// authenticated as the ServiceAccount user in its groups plus
// ReplicaGroupPrefix+name, and returns its path.
func (c *Cluster) ProcessKubeconfig(name, user string) (string, error) {
	return c.writeKubeconfigAs(name, user, []string{"system:serviceaccounts", "system:serviceaccounts:" + SystemNamespace, ReplicaGroupPrefix + name})
}

// ManagerLeads reports whether manager replica i says it leads: its
// leader_election_master_status gauge for ManagerLease is 1.
func ManagerLeads(ctx context.Context, i int) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ManagerMetricsURL(i), nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	want := `leader_election_master_status{name="` + ManagerLease + `"} 1`
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == want {
			return true, nil
		}
	}
	return false, nil
}

// RestoreManagerLeader makes replica 0 (Manager, whose ports tests read)
// the leader again after a test killed or restarted replicas. There is no
// race to win: the other replicas are stopped first (gracefully, which
// releases the Lease at once if one of them held it), replica 0 is started
// if it is not running and campaigns alone until it leads (at most the
// lease duration plus two jittered retries when a killed holder left the
// Lease behind, see test/e2e's takeoverBound), and only then do the others
// start again, as standbys. When replica 0 already leads and every standby
// runs, nothing is touched: a freshly restarted standby would start
// campaigning late, which a failover test right after would pay for.
//
// Restarting a leading standby while replica 0 kept campaigning was a
// race: the restarted standby campaigns as soon as its caches sync, often
// before replica 0's next jittered retry (5 to 11 s), and a stop that
// needed SIGKILL left the Lease held for a whole lease duration; three
// minutes of that once ended with replica 0 never leading.
func (p *Pylon) RestoreManagerLeader(ctx context.Context) error {
	start := time.Now()
	if ok, _ := ManagerLeads(ctx, 0); ok && p.Manager.Running() && !slices.ContainsFunc(p.Managers[1:], func(m *Process) bool { return !m.Running() }) {
		return nil
	}
	for _, m := range p.Managers[1:] {
		if err := m.Stop(30 * time.Second); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for {
		// Replica 0 exits when it loses the Lease it held (a manager
		// does), so it is started again whenever it is not running.
		if !p.Manager.Running() {
			if err := p.Manager.Start(); err != nil {
				return err
			}
		}
		ok, err := ManagerLeads(ctx, 0)
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			last := "it did not report leading"
			if err != nil {
				last = "reading its metrics failed: " + err.Error()
			}
			return fmt.Errorf("manager replica 0 did not become the leader within %s with no other replica running (%s; its log: %s): %w",
				time.Since(start).Round(time.Second), last, p.Manager.LogPath, ctx.Err())
		case <-time.After(time.Second):
		}
	}
	for _, m := range p.Managers[1:] {
		if err := m.Start(); err != nil {
			return err
		}
	}
	return nil
}
