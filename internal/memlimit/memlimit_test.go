package memlimit

import (
	"io/fs"
	"math"
	"runtime/debug"
	"testing"
	"testing/fstest"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestCgroupLimit(t *testing.T) {
	v2root := fstest.MapFS{"cgroup.controllers": file("cpu memory pids\n")}
	withV2 := func(files map[string]string) fstest.MapFS {
		m := fstest.MapFS{}
		for k, v := range v2root {
			m[k] = v
		}
		for k, v := range files {
			m[k] = file(v)
		}
		return m
	}
	cases := []struct {
		name string
		fs   fstest.MapFS
		self string
		want int64
	}{
		{"v2 container (cgroup namespace)", withV2(map[string]string{"memory.max": "268435456\n"}), "0::/\n", 256 << 20},
		{"v2 no limit", withV2(map[string]string{"memory.max": "max\n"}), "0::/\n", 0},
		{"v2 nested: own cgroup", withV2(map[string]string{
			"kubepods/pod1/c1/memory.max": "104857600\n", "kubepods/pod1/memory.max": "max\n", "kubepods/memory.max": "max\n",
		}), "0::/kubepods/pod1/c1\n", 100 << 20},
		{"v2 nested: a parent's lower limit wins", withV2(map[string]string{
			"kubepods/pod1/c1/memory.max": "max\n", "kubepods/pod1/memory.max": "209715200\n", "kubepods/memory.max": "1073741824\n",
		}), "0::/kubepods/pod1/c1\n", 200 << 20},
		{"v2 file missing", withV2(nil), "0::/a/b\n", 0},
		{"v1 own cgroup", fstest.MapFS{"memory/docker/x/memory.limit_in_bytes": file("536870912\n")},
			"12:cpu,cpuacct:/docker/x\n4:memory:/docker/x\n0::/\n", 512 << 20},
		{"v1 container sees its own at the top", fstest.MapFS{"memory/memory.limit_in_bytes": file("536870912\n")},
			"4:memory:/kubepods/pod/c\n", 512 << 20},
		{"v1 unlimited (page-rounded MaxInt64)", fstest.MapFS{"memory/memory.limit_in_bytes": file("9223372036854771712\n")},
			"4:memory:/\n", 0},
		{"hybrid: unified mount without controllers falls back to v1", fstest.MapFS{"memory/p/memory.limit_in_bytes": file("1048576000\n")},
			"4:memory:/p\n0::/\n", 1000 << 20},
		{"no memory controller", fstest.MapFS{}, "1:cpu:/\n", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := CgroupLimit(c.fs, c.self)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("limit %d, want %d", got, c.want)
			}
		})
	}
}

func TestCgroupLimitRejectsGarbage(t *testing.T) {
	fs := fstest.MapFS{"cgroup.controllers": file("memory"), "memory.max": file("lots\n")}
	if _, err := CgroupLimit(fs, "0::/\n"); err == nil {
		t.Fatal("a memory.max that is not a number was accepted")
	}
}

func TestApplyRatio(t *testing.T) {
	for _, bad := range []float64{1.5, -0.1, 0.05, math.NaN(), math.Inf(1)} {
		if _, err := Apply(bad); err == nil {
			t.Fatalf("ratio %v accepted", bad)
		}
	}
	r, err := Apply(0)
	if err != nil || r.Limit != 0 {
		t.Fatalf("ratio 0: %+v, %v", r, err)
	}
	t.Setenv("GOMEMLIMIT", "")
	if r, err := Apply(0.9); err != nil || r.Reason == "GOMEMLIMIT= is set and applies" {
		t.Fatalf("an empty GOMEMLIMIT counted as set: %+v, %v", r, err)
	}
	debug.SetMemoryLimit(math.MaxInt64) // whatever this machine's cgroup made Apply set
	t.Setenv("GOMEMLIMIT", "100MiB")
	r, err = Apply(0.9)
	if err != nil || r.Limit != 0 || r.Reason == "" {
		t.Fatalf("with GOMEMLIMIT set: %+v, %v", r, err)
	}
}

func TestResultString(t *testing.T) {
	got := Result{Limit: 230 << 20, Cgroup: 256 << 20}.String()
	if want := "Go memory limit 230 MiB (90% of the container's 256 MiB)"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}

// denyFS refuses to open one file, as an unreadable ancestor cgroup would.
type denyFS struct {
	fstest.MapFS
	deny string
}

func (d denyFS) Open(name string) (fs.File, error) {
	if name == d.deny {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return d.MapFS.Open(name)
}

func (d denyFS) ReadFile(name string) ([]byte, error) {
	if name == d.deny {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return d.MapFS.ReadFile(name)
}

func TestCgroupLimitSkipsUnreadableAncestors(t *testing.T) {
	m := fstest.MapFS{"cgroup.controllers": file("memory"), "a/b/memory.max": file("104857600\n"), "a/memory.max": file("52428800\n")}
	got, err := CgroupLimit(denyFS{m, "a/memory.max"}, "0::/a/b\n")
	if err != nil || got != 100<<20 {
		t.Fatalf("limit %d, %v; want the own cgroup's 100 MiB", got, err)
	}
	if got, err := CgroupLimit(m, "0::/a/b\n"); err != nil || got != 50<<20 {
		t.Fatalf("readable: limit %d, %v; want the parent's lower 50 MiB", got, err)
	}
	if _, err := CgroupLimit(denyFS{m, "a/b/memory.max"}, "0::/a/b\n"); err == nil {
		t.Fatal("an unreadable own memory.max was ignored")
	}
}

// TestSoftLimitLeavesTheReserve: the soft limit leaves at least Reserve
// of the container's limit for what the runtime does not count (the
// binary's pages), and never falls below MinRatio of it.
func TestSoftLimitLeavesTheReserve(t *testing.T) {
	for _, tc := range []struct {
		limitMiB int64
		ratio    float64
		wantMiB  float64
	}{
		{1024, 0.9, 921.6}, // 10% is more than the reserve: the ratio decides
		{480, 0.9, 432},    // exactly the reserve either way
		{256, 0.9, 208},    // the reserve decides: 256 − 48, not 230.4
		{160, 0.9, 112},    // not 144
		{128, 0.5, 64},     // a lower ratio is kept
		{32, 0.9, 3.2},     // smaller than the reserve: MinRatio of it
	} {
		got := SoftLimit(tc.limitMiB<<20, tc.ratio)
		if want := int64(tc.wantMiB * (1 << 20)); got != want {
			t.Errorf("SoftLimit(%d MiB, %v) = %.1f MiB, want %.1f", tc.limitMiB, tc.ratio, float64(got)/(1<<20), tc.wantMiB)
		}
	}
}
