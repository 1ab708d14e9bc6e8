package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles starts a CPU profile when cpuPath is set and returns a
// function that stops it and writes a heap profile when heapPath is set.
// The bench script stops the gateway with SIGTERM after the wrk run it
// wants profiled, so the profiles cover exactly that load.
func startProfiles(cpuPath, heapPath string) (func() error, error) {
	var cpu *os.File
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err != nil {
			return nil, fmt.Errorf("create cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("start cpu profile: %w", err)
		}
		cpu = f
	}
	return func() error {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				return fmt.Errorf("close cpu profile: %w", err)
			}
		}
		if heapPath == "" {
			return nil
		}
		f, err := os.Create(heapPath)
		if err != nil {
			return fmt.Errorf("create heap profile: %w", err)
		}
		defer func() { _ = f.Close() }()
		runtime.GC() // up-to-date live-heap figures
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return fmt.Errorf("write heap profile: %w", err)
		}
		return nil
	}, nil
}
