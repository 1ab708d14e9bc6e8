package server

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs the package's tests on the HTTP/1.1 engine named by
// PYLON_TEST_HTTP1_ENGINE (lean, the default, or net/http), so that every
// test of the listeners can be run on both.
func TestMain(m *testing.M) {
	if e := os.Getenv("PYLON_TEST_HTTP1_ENGINE"); e != "" {
		if err := CheckEngine(e); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defaultEngine = e
	}
	os.Exit(m.Run())
}
