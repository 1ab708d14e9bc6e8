package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// reusePortPair starts two gateways that bind the same port with
// SO_REUSEPORT, each routing to its own backend ("a" and "b").
func reusePortPair(t *testing.T) (a, b *Server, addr string) {
	t.Helper()
	port := freePort(t)
	_, a = start(t, mustTable(t, httpListener(t, port, backend(t, "a"))), Options{ReusePort: true})
	_, b = start(t, mustTable(t, httpListener(t, port, backend(t, "b"))), Options{ReusePort: true})
	if a.Addr(port) == nil || b.Addr(port) == nil {
		t.Fatal("both gateways must bind the port")
	}
	return a, b, a.Addr(port).String()
}

// getOnce sends one GET on a new connection and returns the body.
func getOnce(addr string) (string, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 20 * time.Second}
	res, err := c.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != 200 {
		return "", fmt.Errorf("status %d", res.StatusCode)
	}
	return string(b), nil
}

// Two gateways serve one address:port; when one drains, the other takes
// every new connection.
func TestReusePortTwoGatewaysOnePort(t *testing.T) {
	a, _, addr := reusePortPair(t)
	seen := map[string]int{}
	for i := 0; i < 400 && (seen["a"] == 0 || seen["b"] == 0); i++ {
		body, err := getOnce(addr)
		if err != nil {
			t.Fatal(err)
		}
		seen[body]++
	}
	if seen["a"] == 0 || seen["b"] == 0 {
		t.Fatalf("the kernel should spread connections over both gateways: %v", seen)
	}
	a.Drain(context.Background(), 0, 10*time.Second)
	for range 50 {
		body, err := getOnce(addr)
		if err != nil || body != "b" {
			t.Fatalf("after one gateway drained: %q %v", body, err)
		}
	}
	t.Logf("before the drain: %v; after it 50 of 50 new connections went to the other gateway", seen)
}

const netnsEnv = "PYLON_TEST_NETNS"

// inNetns runs the calling test again inside a new user and network
// namespace (unshare), where it may set net.ipv4 sysctls without touching
// the host; it returns true in that child.
func inNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(netnsEnv) != "" {
		self, _ := os.Readlink("/proc/self/ns/net")
		if self == os.Getenv(netnsEnv) {
			t.Fatal("not in a new network namespace; refusing to change sysctls")
		}
		if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
			t.Fatalf("ip link set lo up: %v: %s", err, out)
		}
		return true
	}
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "--user", "--map-root-user", "--net", os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), netnsEnv+"="+host)
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(line, ".go:") || strings.HasPrefix(line, "---") {
			t.Log(strings.TrimSpace(line))
		}
	}
	if err != nil {
		t.Fatalf("in a new network namespace (unshare --user --net): %v", err)
	}
	return false
}

func setMigrateReq(t *testing.T, on bool) {
	t.Helper()
	v := "0"
	if on {
		v = "1"
	}
	if err := os.WriteFile("/proc/sys/net/ipv4/tcp_migrate_req", []byte(v), 0o644); err != nil {
		t.Fatalf("net.ipv4.tcp_migrate_req (Linux 5.14+): %v", err)
	}
}

// acceptQueueLoss binds two SO_REUSEPORT sockets, of which only the second
// accepts, opens n connections (the kernel queues about half on the first
// socket), closes the first socket and returns how many of the n
// connections were lost.
func acceptQueueLoss(t *testing.T, n int) int {
	t.Helper()
	first, err := listen("127.0.0.1:0", false, true)
	if err != nil {
		t.Fatal(err)
	}
	addr := first.Addr().String()
	second, err := listen(addr, false, true)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	go func() {
		for {
			c, err := second.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := bufio.NewReader(c).ReadString('\n'); err == nil {
					_, _ = io.WriteString(c, "served\n")
				}
			}()
		}
	}()
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	_ = first.Close()
	lost := 0
	for _, c := range conns {
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		_, _ = io.WriteString(c, "ping\n")
		if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != "served\n" {
			lost++
		}
	}
	return lost
}

// drainUnderLoad runs two reuse-port gateways under a load of GETs on new
// connections, drains one of them with no delay (the accept queue is not
// empty when its socket closes) and returns requests sent and failed.
func drainUnderLoad(t *testing.T) (sent, failed int64) {
	t.Helper()
	a, _, addr := reusePortPair(t)
	var nSent, nFailed, fromA, fromB atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				nSent.Add(1)
				body, err := getOnce(addr)
				switch {
				case err != nil:
					if nFailed.Add(1) <= 3 {
						t.Logf("failed: %v", err)
					}
				case body == "a":
					fromA.Add(1)
				default:
					fromB.Add(1)
				}
			}
		})
	}
	waitFor(t, "load on both gateways", func() bool { return fromA.Load() > 20 && fromB.Load() > 20 })
	a.Drain(context.Background(), 0, 10*time.Second)
	after := fromB.Load()
	waitFor(t, "load after the drain", func() bool { return fromB.Load() > after+100 })
	close(stop)
	wg.Wait()
	return nSent.Load(), nFailed.Load()
}

// What SO_REUSEPORT costs when one of two sockets closes: connections
// queued on it are reset, unless net.ipv4.tcp_migrate_req=1 moves them to
// the other socket. Run in a network namespace the test creates, so the
// sysctl is never changed on the host.
func TestReusePortAcceptQueueMigration(t *testing.T) {
	if !inNetns(t) {
		return
	}
	const n = 40
	setMigrateReq(t, false)
	lostOff := acceptQueueLoss(t, n)
	sentOff, failedOff := drainUnderLoad(t)
	setMigrateReq(t, true)
	lostOn := acceptQueueLoss(t, n)
	sentOn, failedOn := drainUnderLoad(t)
	t.Logf("tcp_migrate_req=0: %d of %d queued connections lost when one socket closed; gateway drained with no delay under load: %d of %d requests failed", lostOff, n, failedOff, sentOff)
	t.Logf("tcp_migrate_req=1: %d of %d queued connections lost; gateway drained with no delay under load: %d of %d requests failed", lostOn, n, failedOn, sentOn)
	if lostOff == 0 {
		t.Errorf("without tcp_migrate_req the connections queued on the closed socket (about half of %d) should be lost; none was: is the kernel migrating anyway?", n)
	}
	if lostOn != 0 || failedOn != 0 {
		t.Errorf("with tcp_migrate_req=1 no connection may be lost: %d queued, %d requests", lostOn, failedOn)
	}
}
