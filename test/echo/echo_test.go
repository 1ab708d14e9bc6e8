package echo

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
