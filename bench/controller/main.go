// Command controller-bench measures Pylon's manager at scale against a real
// kube-apiserver (envtest): time for N WebApps to converge, API writes per
// WebApp counted at the client, writes while nothing changes and after a
// restart, memory at N and at a larger M, and reconcile latency from
// controller-runtime's metrics. It prints what it measured next to the
// targets and writes the figures as JSON; it never fails on a missed
// target (benchmarks are reports). hack/bench.sh runs it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/pylon-dev/pylon/test/testenv"
)

// limitSettle is how long the runtime gets to act on a lowered memory
// limit (collect, return pages) before the memory is read.
const limitSettle = 15 * time.Second

type flags struct {
	apps, large, concurrency int
	quiet                    time.Duration
	memoryLimit              float64
	traceWrites              string
	memProfileRate           int
	limitFromStart           bool
	out, profiles            string
}

func main() {
	var f flags
	flag.IntVar(&f.apps, "apps", 1000, "WebApps for the convergence, write and quiet figures")
	flag.IntVar(&f.large, "large", 5000, "WebApps for the second memory figure (0: skip)")
	flag.IntVar(&f.concurrency, "concurrency", 4, "MaxConcurrentReconciles (cmd/manager's default is 4)")
	flag.DurationVar(&f.quiet, "quiet", 2*time.Minute, "period of no changes whose writes are counted")
	flag.StringVar(&f.out, "out", "bench/controller/results.json", "where the JSON figures go")
	flag.Float64Var(&f.memoryLimit, "memory-limit", 112, "Go soft memory limit in MiB: cmd/manager sets memlimit.SoftLimit of its container's limit (90%, leaving at least 48 MiB), so 112 is a 160 MiB container (0: none)")
	flag.StringVar(&f.traceWrites, "trace-writes", "", "file that receives every write of the quiet period, with its body")
	flag.StringVar(&f.profiles, "profiles", "bench/profiles", "directory for CPU and heap profiles")
	flag.IntVar(&f.memProfileRate, "memprofilerate", 0, "runtime.MemProfileRate for the heap profile (0: Go's default, one sample per 512 KiB)")
	flag.BoolVar(&f.limitFromStart, "limit-from-start", true, "set the soft memory limit when the process starts, as cmd/manager does in its container (false: after the large count converged, for a second figure)")
	flag.Parse()
	if f.limitFromStart && f.memoryLimit > 0 {
		debug.SetMemoryLimit(int64(f.memoryLimit * (1 << 20)))
	}
	if f.memProfileRate > 0 {
		runtime.MemProfileRate = f.memProfileRate
	}
	testenv.SetLogger()
	if err := run(f); err != nil {
		log.Fatal(err)
	}
}

func run(f flags) (err error) {
	cleanup, err := widenServiceRange()
	if err != nil {
		return err
	}
	defer cleanup()
	env, err := testenv.Start(testenv.Options{GatewayAPI: true, CertManager: true})
	if err != nil {
		return fmt.Errorf("start envtest: %w", err)
	}
	defer func() {
		if stopErr := env.Stop(); stopErr != nil && err == nil {
			err = fmt.Errorf("stop envtest: %w", stopErr)
		}
	}()
	ctx := context.Background()
	// The benchmark's own client talks to the API server directly and is
	// not counted.
	c, err := client.New(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		return fmt.Errorf("new client: %w", err)
	}
	if err := createPlatform(ctx, c); err != nil {
		return err
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go simulateGatewayStatus(watchCtx, c)
	apps, err := watchWebApps(watchCtx, env)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.profiles, 0o755); err != nil {
		return fmt.Errorf("profiles dir: %w", err)
	}
	counter := &writeCounter{}
	mgr, err := startManager(env, counter, f.concurrency)
	if err != nil {
		return err
	}
	defer func() {
		if mgr != nil {
			_ = mgr.stop()
		}
	}()
	r := &results{Apps: f.apps, Large: f.large, Concurrency: f.concurrency, QuietSeconds: f.quiet.Seconds(), LimitFromStart: f.limitFromStart && f.memoryLimit > 0, MemoryKind: "the in-process manager's Go heap in use after a GC, and the process RSS; both also hold this benchmark's own view of the WebApps (two numbers each, fed by a watch, to detect convergence without loading the API server) and its client, so they slightly overstate the manager"}

	// 1. Converge N WebApps from nothing.
	log.Printf("creating %d WebApps", f.apps)
	stopCPU, err := cpuProfile(filepath.Join(f.profiles, "controller-cpu.pprof"))
	if err != nil {
		return err
	}
	before := counter.read()
	cpuBefore := readCPU()
	recStart, err := reconcileTotal()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := createApps(ctx, c, 0, f.apps); err != nil {
		return err
	}
	r.CreateSeconds = time.Since(start).Seconds()
	converged, err := waitConverged(ctx, apps, f.apps, 15*time.Minute)
	if err != nil {
		return err
	}
	r.ConvergeSeconds = converged.Sub(start).Seconds()
	r.ConvergeCPU = readCPU().minus(cpuBefore)
	if err := stopCPU(); err != nil {
		return err
	}
	r.ConvergeWrites = counter.read().minus(before)
	if r.ConvergeReconciles, err = reconcilesSince(recStart); err != nil {
		return err
	}
	if r.Children, r.ChildrenTotal, err = countChildren(ctx, c); err != nil {
		return err
	}
	r.Reconcile, err = readReconcile("webapp")
	if err != nil {
		return err
	}
	r.MemoryApps = readMemory()
	log.Printf("converged in %.1fs; writes %+v; cpu %+v", r.ConvergeSeconds, r.ConvergeWrites, r.ConvergeCPU)

	// 2. Nothing changes: nothing should be written.
	before = counter.read()
	if f.traceWrites != "" {
		tf, err := os.Create(f.traceWrites)
		if err != nil {
			return fmt.Errorf("trace writes: %w", err)
		}
		defer tf.Close()
		counter.traceTo(tf)
	}
	time.Sleep(f.quiet)
	counter.traceTo(nil)
	r.QuietWrites = counter.read().minus(before)
	if r.QuietReconciles, err = reconcilesSince(recStart); err != nil {
		return err
	}
	r.QuietReconciles -= r.ConvergeReconciles
	log.Printf("quiet %s: writes %+v", f.quiet, r.QuietWrites)

	// 3. Restart: every WebApp is reconciled again from a fresh cache.
	if err := mgr.stop(); err != nil {
		return fmt.Errorf("stop manager: %w", err)
	}
	mgr = nil
	recBefore, err := reconcileTotal()
	if err != nil {
		return err
	}
	before = counter.read()
	start = time.Now()
	if mgr, err = startManager(env, counter, f.concurrency); err != nil {
		return err
	}
	if err := waitReconciled(recBefore+float64(f.apps), 10*time.Minute); err != nil {
		return err
	}
	r.ResyncSeconds = time.Since(start).Seconds()
	time.Sleep(5 * time.Second) // let late events land before reading
	r.ResyncWrites = counter.read().minus(before)
	log.Printf("resync in %.1fs: writes %+v", r.ResyncSeconds, r.ResyncWrites)

	// 4. Scale up to M for the second memory figure.
	if f.large > f.apps {
		log.Printf("creating %d more WebApps", f.large-f.apps)
		before = counter.read()
		cpuBefore = readCPU()
		if recStart, err = reconcileTotal(); err != nil {
			return err
		}
		start = time.Now()
		if err := createApps(ctx, c, f.apps, f.large); err != nil {
			return err
		}
		converged, err := waitConverged(ctx, apps, f.large, 30*time.Minute)
		if err != nil {
			return err
		}
		r.LargeConvergeSeconds = converged.Sub(start).Seconds()
		r.LargeCPU = readCPU().minus(cpuBefore)
		r.LargeWrites = counter.read().minus(before)
		if r.LargeReconciles, err = reconcilesSince(recStart); err != nil {
			return err
		}
		r.MemoryLarge = readMemory()
		log.Printf("%d WebApps converged in %.1fs; memory %+v", f.large, r.LargeConvergeSeconds, r.MemoryLarge)
		if f.memoryLimit > 0 {
			r.MemoryLimitMiB = f.memoryLimit
			debug.SetMemoryLimit(int64(f.memoryLimit * (1 << 20)))
			time.Sleep(limitSettle)
			r.MemoryLargeLimited = readMemory()
			log.Printf("with a Go memory limit of %.0f MiB, after %s: memory %+v", f.memoryLimit, limitSettle, r.MemoryLargeLimited)
		}
	}
	if err := heapProfile(filepath.Join(f.profiles, "controller-heap.pprof")); err != nil {
		return err
	}
	r.finish()
	return r.write(f.out)
}

// createApps creates WebApps [from, to) with a few parallel writers, as a
// GitOps tool syncing a large repository would.
func createApps(ctx context.Context, c client.Client, from, to int) error {
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < to; i = int(next.Add(1) - 1) {
				if err := c.Create(ctx, newWebApp(i)); err != nil {
					errs <- fmt.Errorf("create WebApp %d: %w", i, err)
					return
				}
				if i%4 != 3 {
					attached.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// reconcilesSince is how many reconciles the webapp controller finished
// since its total was from (the total survives manager restarts: the
// counter lives in controller-runtime's global registry).
func reconcilesSince(from float64) (float64, error) {
	n, err := reconcileTotal()
	return n - from, err
}

// waitReconciled waits until the controller finished want reconciles in
// total.
func waitReconciled(want float64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		n, err := reconcileTotal()
		if err != nil {
			return err
		}
		if n >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %.0f of %.0f reconciles after %s", n, want, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func cpuProfile(path string) (func() error, error) {
	fh, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(fh); err != nil {
		_ = fh.Close()
		return nil, fmt.Errorf("start cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return fh.Close()
	}, nil
}

func heapProfile(path string) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create heap profile: %w", err)
	}
	defer func() { _ = fh.Close() }()
	if err := pprof.Lookup("heap").WriteTo(fh, 0); err != nil {
		return fmt.Errorf("write heap profile: %w", err)
	}
	return nil
}

// finite makes a figure JSON can carry: NaN and ±Inf become -1.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return -1
	}
	return v
}

func (r *results) write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	fmt.Println(string(b))
	return nil
}
