package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cpuSplit is CPU time (user+system) spent by the API server, etcd and
// this process (the manager, plus the benchmark's small client) over a
// phase: it says which side the wall-clock time goes to.
type cpuSplit struct {
	APIServer float64 `json:"apiserverSeconds"`
	Etcd      float64 `json:"etcdSeconds"`
	Manager   float64 `json:"managerSeconds"`
}

func (a cpuSplit) minus(b cpuSplit) cpuSplit {
	return cpuSplit{a.APIServer - b.APIServer, a.Etcd - b.Etcd, a.Manager - b.Manager}
}

// readCPU sums utime+stime of this process and its kube-apiserver and
// etcd children (envtest starts them; the wrapper execs the API server).
func readCPU() cpuSplit {
	self := os.Getpid()
	s := cpuSplit{Manager: procCPU(strconv.Itoa(self))}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid := filepath.Base(d)
		b, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		f := statFields(string(b))
		if len(f) < 15 || f[1] != strconv.Itoa(self) {
			continue
		}
		switch comm := readComm(d); {
		case strings.HasPrefix(comm, "kube-apiserver"):
			s.APIServer += procCPU(pid)
		case strings.HasPrefix(comm, "etcd"):
			s.Etcd += procCPU(pid)
		}
	}
	return s
}

func readComm(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "comm"))
	return strings.TrimSpace(string(b))
}

// statFields splits /proc/<pid>/stat after the command name (which may
// hold spaces): [0] is the state, [1] the parent pid, [11] utime, [12] stime.
func statFields(stat string) []string {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(stat[i+1:])
}

// procCPU is utime+stime in seconds (USER_HZ is 100 on Linux).
func procCPU(pid string) float64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	f := statFields(string(b))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100
}
