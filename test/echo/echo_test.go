package echo

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	. "github.com/onsi/gomega"
)

func TestHandlerDescribesRequest(t *testing.T) {
	g := NewWithT(t)
	h := Handler(Identity{Namespace: "team-a", Pod: "shop-abc-123", Image: "shop:1"})

	req := httptest.NewRequest(http.MethodGet, "http://shop.example.com/status/503?x=1", nil)
	req.Header.Set("X-Echo-Set-Header", "X-One: 1, X-Two:2")
	req.Header.Set("Foo", "bar")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	g.Expect(rec.Code).To(Equal(http.StatusServiceUnavailable))
	g.Expect(rec.Header().Get("X-One")).To(Equal("1"))
	g.Expect(rec.Header().Get("X-Two")).To(Equal("2"))
	var got Response
	g.Expect(json.Unmarshal(rec.Body.Bytes(), &got)).To(Succeed())
	g.Expect(got.Path).To(Equal("/status/503?x=1"))
	g.Expect(got.Host).To(Equal("shop.example.com"))
	g.Expect(got.Method).To(Equal(http.MethodGet))
	g.Expect(got.Namespace).To(Equal("team-a"))
	g.Expect(got.Pod).To(Equal("shop-abc-123"))
	g.Expect(got.Image).To(Equal("shop:1"))
	g.Expect(got.Headers).To(HaveKeyWithValue("Foo", []string{"bar"}))
}

func TestHandlerDelay(t *testing.T) {
	g := NewWithT(t)
	srv := httptest.NewServer(Handler(Identity{}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/?delay=10ms")
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
}

func TestWebSocketEchoKeepsFrameTypes(t *testing.T) {
	g := NewWithT(t)
	s := httptest.NewServer(Handler(Identity{}))
	defer s.Close()
	ws, err := websocket.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/ws", "", "http://test/")
	g.Expect(err).NotTo(HaveOccurred())
	defer ws.Close()

	g.Expect(websocket.Message.Send(ws, "hello")).To(Succeed())
	var text string
	g.Expect(websocket.Message.Receive(ws, &text)).To(Succeed())
	g.Expect(text).To(Equal("hello"))

	bin := []byte{1, 2, 3}
	g.Expect(websocket.Message.Send(ws, bin)).To(Succeed())
	var got []byte
	g.Expect(websocket.Message.Receive(ws, &got)).To(Succeed())
	g.Expect(got).To(Equal(bin))
	// Each frame comes back with its own payload type.
	for _, sent := range []frame{{[]byte("t"), websocket.TextFrame}, {[]byte{9}, websocket.BinaryFrame}} {
		g.Expect(frameCodec.Send(ws, sent)).To(Succeed())
		var back frame
		g.Expect(frameCodec.Receive(ws, &back)).To(Succeed())
		g.Expect(back).To(Equal(sent))
	}
}

// readEvents reads server-sent events until the stream ends and returns
// their ids and how the body ended.
func readEvents(g Gomega, body io.Reader) ([]int, error) {
	var ids []int
	sc := bufio.NewScanner(body)
	var ev Event
	for sc.Scan() {
		line := sc.Text()
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			g.Expect(json.Unmarshal([]byte(data), &ev)).To(Succeed())
			ids = append(ids, ev.ID)
		}
	}
	return ids, sc.Err()
}

func TestEventsResumeAfterLastEventID(t *testing.T) {
	g := NewWithT(t)
	srv := httptest.NewServer(Handler(Identity{Namespace: "ns", Pod: "p"}))
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/sse?interval=10ms&count=3", nil)
	g.Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Last-Event-ID", "41")
	res, err := srv.Client().Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = res.Body.Close() }()
	g.Expect(res.StatusCode).To(Equal(http.StatusOK))
	g.Expect(res.Header.Get("Content-Type")).To(Equal("text/event-stream"))
	ids, err := readEvents(g, res.Body)
	g.Expect(err).NotTo(HaveOccurred(), "the stream ends cleanly after count events")
	g.Expect(ids).To(Equal([]int{42, 43, 44}))
}

func TestEventsRejectBadParameters(t *testing.T) {
	g := NewWithT(t)
	h := Handler(Identity{})
	for _, target := range []string{"/sse?interval=1ms", "/sse?interval=x", "/sse?count=0", "/sse?count=-1"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		g.Expect(rec.Code).To(Equal(http.StatusBadRequest), target)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/sse", nil))
	g.Expect(rec.Code).To(Equal(http.StatusMethodNotAllowed))
}

// A server that begins to shut down ends its event streams after a whole
// event and its WebSockets with a close frame, so Shutdown does not wait
// for them and clients see a clean end.
func TestStreamsEndCleanlyWhenTheServerStops(t *testing.T) {
	g := NewWithT(t)
	stop := make(chan struct{})
	srv := httptest.NewUnstartedServer(Handler(Identity{}))
	srv.Config.BaseContext = func(net.Listener) context.Context { return WithStopping(context.Background(), stop) }
	srv.Config.RegisterOnShutdown(func() { close(stop) })
	srv.Start()
	defer srv.Close()

	res, err := srv.Client().Get(srv.URL + "/sse?interval=10ms")
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = res.Body.Close() }()
	ws, err := websocket.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", "", "http://test/")
	g.Expect(err).NotTo(HaveOccurred())
	defer ws.Close()
	g.Expect(websocket.Message.Send(ws, "before")).To(Succeed())
	var text string
	g.Expect(websocket.Message.Receive(ws, &text)).To(Succeed())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	g.Expect(srv.Config.Shutdown(ctx)).To(Succeed(), "no stream held the shutdown up")
	ids, err := readEvents(g, res.Body)
	g.Expect(err).NotTo(HaveOccurred(), "the event stream ended cleanly")
	for i, id := range ids {
		g.Expect(id).To(Equal(i + 1))
	}
	// x/net/websocket reports a received close frame as io.EOF; without
	// one, the deadline fails the read.
	g.Expect(ws.SetReadDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
	g.Expect(websocket.Message.Receive(ws, &text)).To(MatchError(io.EOF))
}

func TestHandlerDigestsTheRequestBody(t *testing.T) {
	g := NewWithT(t)
	h := Handler(Identity{})
	body := strings.Repeat("pylon", 1000)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/upload", strings.NewReader(body)))
	g.Expect(rec.Code).To(Equal(http.StatusOK))
	var got Response
	g.Expect(json.Unmarshal(rec.Body.Bytes(), &got)).To(Succeed())
	sum := sha256.Sum256([]byte(body))
	g.Expect(got.BodyLength).To(Equal(int64(len(body))))
	g.Expect(got.BodySHA256).To(Equal(hex.EncodeToString(sum[:])))

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	var none Response
	g.Expect(json.Unmarshal(rec.Body.Bytes(), &none)).To(Succeed())
	g.Expect(none.BodyLength).To(BeZero())
	g.Expect(none.BodySHA256).To(BeEmpty())
}
