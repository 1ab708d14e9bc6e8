// Package memlimit sets the Go runtime's soft memory limit from the
// container's memory limit, so that the garbage collector works harder as
// the process nears the limit instead of letting the heap double past it
// (GOGC's default) and the kernel kill the container. It reads the cgroup
// the process runs in: cgroup v2's memory.max (the process's own cgroup
// and each parent, the lowest wins), or cgroup v1's
// memory.limit_in_bytes. GOMEMLIMIT in the environment wins: the runtime
// has already applied it.
package memlimit

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
)

// unlimited is above any real limit: cgroup v1 reports "no limit" as a
// page-rounded MaxInt64.
const unlimited = int64(1) << 60

// Result says what Apply did, for the log.
type Result struct {
	// Limit is the soft limit set, in bytes; 0 when none was set.
	Limit int64
	// Cgroup is the container's limit it was derived from, in bytes.
	Cgroup int64
	// Reason says why no limit was set when Limit is 0.
	Reason string
}

func (r Result) String() string {
	if r.Limit == 0 {
		return "Go memory limit not set: " + r.Reason
	}
	return fmt.Sprintf("Go memory limit %d MiB (%.0f%% of the container's %d MiB)", r.Limit>>20, 100*float64(r.Limit)/float64(r.Cgroup), r.Cgroup>>20)
}

// MinRatio is the smallest ratio other than 0 that Apply accepts: below
// it the collector would run without pause.
const MinRatio = 0.1

// CheckRatio returns an error, saying what is accepted, unless ratio is 0
// (off) or from MinRatio to 1. Apply checks it too; commands call it first
// to refuse a bad flag before starting.
func CheckRatio(ratio float64) error {
	if ratio == 0 || ratio >= MinRatio && ratio <= 1 { // NaN fails both
		return nil
	}
	return fmt.Errorf("memory limit ratio %v must be 0 (off) or between %v and 1", ratio, MinRatio)
}

// Reserve is what the soft limit leaves of the container's limit at
// least, whatever the ratio: memory the Go runtime does not count but the
// container is charged for, above all the binary's own pages (about 36 MiB
// of the manager's are resident; the kernel charges them to the container
// that faults them in), and room for the heap's fragmentation, which a
// soft limit cannot collect. With only 10% left, a 128 MiB container
// running 5,000 WebApps kept 1 MiB of the binary's pages: they were read
// back from disk thousands of times a second (bench/NOTES.md).
const Reserve = 48 << 20

// SoftLimit is the soft limit for a container limit and a ratio: ratio ×
// limit, but no more than limit − Reserve, and no less than MinRatio ×
// limit (a container smaller than the reserve still gets a limit).
func SoftLimit(limit int64, ratio float64) int64 {
	soft := int64(math.Floor(ratio * float64(limit)))
	if capped := limit - Reserve; soft > capped {
		soft = max(capped, int64(math.Floor(MinRatio*float64(limit))))
	}
	return soft
}

// Apply sets the runtime's memory limit to SoftLimit of the container's
// memory limit. It does nothing when ratio is 0, GOMEMLIMIT is set, or no
// limit is found. The limit is read once: a container resized in place
// keeps the soft limit of its start until it restarts.
func Apply(ratio float64) (Result, error) {
	if err := CheckRatio(ratio); err != nil {
		return Result{}, err
	}
	if ratio == 0 {
		return Result{Reason: "the ratio is 0"}, nil
	}
	if v := os.Getenv("GOMEMLIMIT"); v != "" { // the runtime ignores an empty one too
		return Result{Reason: "GOMEMLIMIT=" + v + " is set and applies"}, nil
	}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return Result{Reason: "no /proc/self/cgroup"}, nil //nolint:nilerr // not on Linux or no procfs: nothing to derive from
	}
	limit, err := CgroupLimit(os.DirFS("/sys/fs/cgroup"), string(self))
	if err != nil {
		return Result{}, err
	}
	if limit == 0 {
		return Result{Reason: "the container has no memory limit"}, nil
	}
	soft := SoftLimit(limit, ratio)
	if soft <= 0 {
		return Result{Reason: fmt.Sprintf("%v of the container's %d bytes is no limit", ratio, limit)}, nil
	}
	debug.SetMemoryLimit(soft)
	return Result{Limit: soft, Cgroup: limit}, nil
}

// CgroupLimit is the memory limit in bytes of the cgroup that
// /proc/self/cgroup (self) names, read from the cgroup filesystem cgroupfs
// (mounted at /sys/fs/cgroup); 0 means none.
func CgroupLimit(cgroupfs fs.FS, self string) (int64, error) {
	v2, v1 := "", ""
	sc := bufio.NewScanner(strings.NewReader(self))
	for sc.Scan() {
		// hierarchy-ID:controller-list:cgroup-path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = parts[2]
		case hasController(parts[1], "memory"):
			v1 = parts[2]
		}
	}
	if v2 != "" {
		if _, err := fs.Stat(cgroupfs, "cgroup.controllers"); err == nil {
			return v2Limit(cgroupfs, v2)
		}
	}
	if v1 != "" {
		return v1Limit(cgroupfs, v1)
	}
	return 0, nil
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// v2Limit is the lowest memory.max from the process's cgroup up to the
// root. Inside a cgroup namespace (containers) the process's path is "/"
// and the mount shows its own cgroup at the top.
func v2Limit(cgroupfs fs.FS, p string) (int64, error) {
	var lowest int64
	own := path.Clean("/" + p)
	for dir := own; ; dir = path.Dir(dir) {
		name := strings.TrimPrefix(path.Join(dir, "memory.max"), "/")
		v, err := readLimit(cgroupfs, name)
		switch {
		case errors.Is(err, fs.ErrPermission) && dir != own:
			// An ancestor we may not read: what we found stands.
		case err != nil:
			return 0, err
		case v > 0 && (lowest == 0 || v < lowest):
			lowest = v
		}
		if dir == "/" {
			return lowest, nil
		}
	}
}

// v1Limit reads memory.limit_in_bytes of the memory controller's
// hierarchy: the process's own cgroup when visible, else the mount's top
// (containers see their own cgroup there).
func v1Limit(cgroupfs fs.FS, p string) (int64, error) {
	for _, name := range []string{path.Join("memory", p, "memory.limit_in_bytes"), "memory/memory.limit_in_bytes"} {
		v, err := readLimit(cgroupfs, strings.TrimPrefix(name, "/"))
		if err != nil || v > 0 {
			return v, err
		}
	}
	return 0, nil
}

// readLimit reads a limit file: a byte count, or "max"; 0 for no limit or
// no such file.
func readLimit(cgroupfs fs.FS, name string) (int64, error) {
	b, err := fs.ReadFile(cgroupfs, name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read cgroup %s: %w", name, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cgroup %s: %q is not a byte count", name, s)
	}
	if v <= 0 || v >= unlimited {
		return 0, nil
	}
	return v, nil
}
