package server

import (
	"bufio"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/pylon-dev/pylon/internal/gateway/httphead"
)

// checkAgainstReadRequest requires that a head parseLean takes is read by
// net/http the same way: same method, URL, Host, header map (net/http
// drops Host from it), Close and an empty body. A head net/http refuses
// must never be taken. (The server's own checks after ReadRequest, Host
// syntax and header bytes, are stricter in parseLean; the differential
// test through both engines covers them.)
func checkAgainstReadRequest(t *testing.T, raw string) {
	end := strings.Index(raw, "\r\n\r\n")
	if end < 0 {
		return
	}
	head := []byte(raw[:end+4])
	if _, clean := scanHeadAll(head); !clean {
		return // readHead hands these over before parsing
	}
	var r http.Request
	h := http.Header{}
	_, ok := parseLean(head, &r, h, nil)
	if !ok {
		return
	}
	want, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(head))))
	if err != nil {
		t.Fatalf("lean parser took %q, net/http refuses it: %v", head, err)
	}
	delete(want.Header, "Host") // as net/http's server does
	if len(want.Header) == 0 {
		want.Header = http.Header{}
	}
	if r.Method != want.Method || r.URL.String() != want.URL.String() || r.URL.Path != want.URL.Path ||
		r.URL.RawPath != want.URL.RawPath || r.URL.RawQuery != want.URL.RawQuery || r.Host != want.Host ||
		r.RequestURI != want.RequestURI || r.Proto != want.Proto || r.Close != want.Close ||
		r.ContentLength != want.ContentLength || want.ContentLength != 0 || len(want.TransferEncoding) != 0 ||
		!reflect.DeepEqual(r.Header, want.Header) {
		t.Fatalf("%q:\nlean     %s %s %q host=%q close=%v %v\nnet/http %s %s %q host=%q close=%v %v",
			head, r.Method, r.Proto, r.URL, r.Host, r.Close, r.Header,
			want.Method, want.Proto, want.URL, want.Host, want.Close, want.Header)
	}
}

// scanHeadAll is readHead's check on a head already complete.
func scanHeadAll(b []byte) (int, bool) {
	end, _, clean := httphead.Scan(b, 0)
	return end, clean
}

func TestLeanParserAgreesWithNetHTTP(t *testing.T) {
	for _, tc := range diffCorpus {
		checkAgainstReadRequest(t, tc.raw)
	}
	var r http.Request
	if _, ok := parseLean([]byte("GET /a?b HTTP/1.1\r\nhost: x\r\nX-A: 1\r\nx-a: 2\r\n\r\n"), &r, http.Header{}, nil); !ok {
		t.Fatal("a plain GET was not taken")
	}
	if r.Host != "x" || len(r.Header["X-A"]) != 2 || r.Header["Host"] != nil || r.URL.RawQuery != "b" {
		t.Fatalf("parsed %+v", r)
	}
}

func FuzzLeanParser(f *testing.F) {
	for _, tc := range diffCorpus {
		f.Add(tc.raw)
	}
	f.Fuzz(checkAgainstReadRequest)
}
