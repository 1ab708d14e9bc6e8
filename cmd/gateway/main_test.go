package main

import "testing"

func TestHostPort(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:9090":   "127.0.0.1:9090",
		":9090":            ":9090",
		"[fd00::1]:9090":   "[fd00::1]:9090",
		"fd00::1:9090":     "[fd00::1]:9090",
		"10.0.0.7:9090":    "10.0.0.7:9090",
		"localhost:9090":   "localhost:9090",
		"2001:db8::42:443": "[2001:db8::42]:443",
	} {
		got, err := hostPort(in)
		if err != nil || got != want {
			t.Errorf("hostPort(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"9090", "", "10.0.0.7"} {
		if got, err := hostPort(bad); err == nil {
			t.Errorf("hostPort(%q) = %q, want an error", bad, got)
		}
	}
}
