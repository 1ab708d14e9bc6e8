package echo

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// failures sends n requests to h and returns the 1-based numbers of those
// answered 500 with the injected-fault header.
func failures(g Gomega, h http.Handler, n int, userAgent string) []int {
	var failed []int
	for i := 1; i <= n; i++ {
		req := httptest.NewRequest(http.MethodGet, "http://shop.example.com/", nil)
		req.Header.Set("User-Agent", userAgent)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			g.Expect(rec.Header().Get("X-Echo-Fault")).To(BeEmpty())
		case http.StatusInternalServerError:
			g.Expect(rec.Header().Get("X-Echo-Fault")).To(Equal("injected"))
			g.Expect(rec.Body.String()).To(ContainSubstring(`"pod": "shop-canary-1"`), "a failure still says which Pod answered")
			failed = append(failed, i)
		default:
			g.Expect(rec.Code).To(BeElementOf(http.StatusOK, http.StatusInternalServerError))
		}
	}
	return failed
}

func TestFailPercentIsExactAndSpread(t *testing.T) {
	id := Identity{Pod: "shop-canary-1"}
	for _, tc := range []struct {
		percent int
		want    []int
	}{
		{0, nil},
		{10, []int{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}},
		{30, []int{4, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40, 44, 47, 50, 54, 57, 60, 64, 67, 70, 74, 77, 80, 84, 87, 90, 94, 97, 100}},
		{100, nil}, // checked by count below
	} {
		t.Run(strconv.Itoa(tc.percent), func(t *testing.T) {
			g := NewWithT(t)
			got := failures(g, FaultyHandler(id, Faults{FailPercent: tc.percent}), 100, "curl/8")
			g.Expect(got).To(HaveLen(tc.percent), "exactly %d of 100 requests fail", tc.percent)
			if tc.want != nil {
				g.Expect(got).To(Equal(tc.want))
			}
		})
	}
}

// Readiness is NeverReady's business: probes never fail or wait, and do
// not use up the failure count of real traffic.
func TestFaultsSpareProbes(t *testing.T) {
	g := NewWithT(t)
	h := FaultyHandler(Identity{Pod: "shop-canary-1"}, Faults{FailPercent: 100, Delay: time.Hour})
	start := time.Now()
	g.Expect(failures(g, h, 20, ProbeUserAgent)).To(BeEmpty())
	g.Expect(failures(g, h, 5, "kube-probe/1.36")).To(BeEmpty(), "a kubelet's probe counts as one too")
	g.Expect(time.Since(start)).To(BeNumerically("<", time.Second))

	h = FaultyHandler(Identity{Pod: "shop-canary-1"}, Faults{FailPercent: 10})
	g.Expect(failures(g, h, 9, ProbeUserAgent)).To(BeEmpty())
	g.Expect(failures(g, h, 10, "curl/8")).To(Equal([]int{10}), "probes did not advance the count")
}

func TestFaultDelay(t *testing.T) {
	g := NewWithT(t)
	srv := httptest.NewServer(FaultyHandler(Identity{}, Faults{Delay: 80 * time.Millisecond}))
	defer srv.Close()
	start := time.Now()
	resp, err := srv.Client().Get(srv.URL + "/?delay=40ms")
	g.Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	g.Expect(time.Since(start)).To(BeNumerically(">=", 120*time.Millisecond), "the knob's delay adds to ?delay=")
}

// An injected failure wins over /status/N, so a canary cannot hide its
// failures behind a path that asks for 200.
func TestInjectedFailureWinsOverStatusPath(t *testing.T) {
	g := NewWithT(t)
	h := FaultyHandler(Identity{}, Faults{FailPercent: 100})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://x/status/204", nil))
	g.Expect(rec.Code).To(Equal(http.StatusInternalServerError))
}

func TestParseImageFaults(t *testing.T) {
	for _, tc := range []struct {
		image string
		want  Faults
	}{
		{"example.test/echo", Faults{}},
		{"example.test/echo:2.0", Faults{}},
		{"registry.example.com:5000/shop", Faults{}}, // a port is no tag
		{"example.test/echo:fail-30", Faults{FailPercent: 30}},
		{"example.test/echo:fail-0", Faults{}},
		{"example.test/echo:fail-100", Faults{FailPercent: 100}},
		{"example.test/echo:never-ready", Faults{NeverReady: true}},
		{"example.test/echo:slow-50ms", Faults{Delay: 50 * time.Millisecond}},
		{"example.test/echo:slow-1.5s", Faults{Delay: 1500 * time.Millisecond}},
		{"example.test/echo:slow-10m", Faults{Delay: maxDelay}},
		{"registry.example.com:5000/team/echo:fail-10_slow-20ms", Faults{FailPercent: 10, Delay: 20 * time.Millisecond}},
		{"example.test/echo:v2_never-ready", Faults{NeverReady: true}},
		{"example.test/echo:fail-30@sha256:0123abcd", Faults{FailPercent: 30}},
	} {
		t.Run(tc.image, func(t *testing.T) {
			g := NewWithT(t)
			got, err := ParseImageFaults(tc.image)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
	for _, bad := range []string{
		"example.test/echo:fail-101", "example.test/echo:fail--1", "example.test/echo:fail-ten",
		"example.test/echo:slow-50", "example.test/echo:slow--5ms",
	} {
		t.Run(bad, func(t *testing.T) {
			_, err := ParseImageFaults(bad)
			NewWithT(t).Expect(err).To(MatchError(ContainSubstring(bad)))
		})
	}
}

func TestEnvOverridesImageKnobs(t *testing.T) {
	g := NewWithT(t)
	const image = "example.test/echo:fail-30_never-ready_slow-50ms"

	f, err := FaultsFor(image, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f).To(Equal(Faults{FailPercent: 30, NeverReady: true, Delay: 50 * time.Millisecond}))

	f, err = FaultsFor(image, map[string]string{EnvFailPercent: "5", EnvNeverReady: "false"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f).To(Equal(Faults{FailPercent: 5, Delay: 50 * time.Millisecond}), "each env var overrides its own knob only")

	f, err = FaultsFor("example.test/echo:1.0", map[string]string{EnvFailPercent: "10", EnvNeverReady: "true", EnvDelay: "20ms"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f).To(Equal(Faults{FailPercent: 10, NeverReady: true, Delay: 20 * time.Millisecond}))

	_, err = FaultsFor(image, map[string]string{EnvFailPercent: "ten", EnvDelay: "soon", EnvNeverReady: "maybe"})
	g.Expect(err).To(MatchError(And(ContainSubstring(EnvFailPercent), ContainSubstring(EnvDelay), ContainSubstring(EnvNeverReady))))
}
