package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // RFC 6455 fixes SHA-1 for Sec-WebSocket-Accept
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/test/echo"
	"github.com/pylon-dev/pylon/test/localcluster"
)

// The mixed traffic real clients send through the gateway: GETs, POSTs
// with bodies the backend digests, server-sent event streams and
// WebSockets, each kind counted on its own. The gateway restart and the
// backend rollout tests carry it across their disruption.

// trafficOptions say how much of each kind to send to a WebApp's host.
type trafficOptions struct {
	// Host is the WebApp's hostname; NS its namespace (every answer must
	// come from a Pod there).
	Host, NS string
	// GETs and POSTs are the numbers of request workers of each method;
	// each worker has one connection at a time, as a browser tab would.
	GETs, POSTs int
	// SSE and WebSockets are the numbers of long-lived streams, each
	// reconnected whenever it ends.
	SSE, WebSockets int
}

// Kinds of traffic.
const (
	kindGET       = "GET"
	kindPOST      = "POST"
	kindSSE       = "SSE"
	kindWebSocket = "WebSocket"
)

// How a stream ended. Clean ends are what a draining gateway or backend
// may do; the others are failures.
const (
	endEOF        = "eof"         // clean: the body ended (SSE) or a FIN at a frame boundary (WebSocket)
	endCloseFrame = "close-frame" // clean: a WebSocket close frame
	endTruncated  = "truncated"   // the connection ended inside an event or frame (or chunk)
	endReset      = "reset"       // ECONNRESET: the peer reset the connection
	endError      = "error"       // any other error
)

func cleanEnd(how string) bool { return how == endEOF || how == endCloseFrame }

// streamEnd is one end of a long-lived stream the client did not ask for.
type streamEnd struct {
	At     time.Time
	How    string
	Detail string
	// Messages the stream carried on that connection.
	Messages int
}

// kindStats counts one kind of traffic.
type kindStats struct {
	ok, failed atomic.Int64
	// Streams: connections made, messages (events, echoed frames)
	// received, and every end the client did not ask for.
	connects, messages atomic.Int64
	// lastConnect is when a stream last connected (unix nanoseconds);
	// messagesSince counts what it received since.
	lastConnect, messagesSince atomic.Int64

	mu       sync.Mutex
	failures []string
	ends     []streamEnd
}

func (k *kindStats) fail(format string, args ...any) {
	k.failed.Add(1)
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.failures) < 10 {
		k.failures = append(k.failures, time.Now().Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
	}
}

func (k *kindStats) ended(e streamEnd) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.ends = append(k.ends, e)
}

func (k *kindStats) connected() {
	k.connects.Add(1)
	k.lastConnect.Store(time.Now().UnixNano())
	k.messagesSince.Store(0)
}

func (k *kindStats) received() {
	k.messages.Add(1)
	k.messagesSince.Add(1)
}

// traffic is mixed traffic in progress.
type traffic struct {
	o     trafficOptions
	kinds map[string]*kindStats
	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup
	// lastEvent is the id of the last event each SSE stream received,
	// lastImage the image of the Pod that sent it.
	lastEvent []atomic.Int64
	lastImage []atomic.Value
}

// startTraffic starts the workers and streams of o; finish stops them.
func startTraffic(t *testing.T, o trafficOptions) *traffic {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tr := &traffic{o: o, ctx: ctx, stop: cancel, kinds: map[string]*kindStats{}, lastEvent: make([]atomic.Int64, o.SSE), lastImage: make([]atomic.Value, o.SSE)}
	for _, k := range []string{kindGET, kindPOST, kindSSE, kindWebSocket} {
		tr.kinds[k] = &kindStats{}
	}
	t.Cleanup(cancel)
	for i := range o.GETs {
		tr.wg.Go(func() { tr.requests(kindGET, i) })
	}
	for i := range o.POSTs {
		tr.wg.Go(func() { tr.requests(kindPOST, i) })
	}
	for i := range o.SSE {
		tr.wg.Go(func() { tr.stream(kindSSE, i, tr.events) })
	}
	for i := range o.WebSockets {
		tr.wg.Go(func() { tr.stream(kindWebSocket, i, tr.webSocket) })
	}
	return tr
}

// finish stops the traffic and waits for every worker.
func (tr *traffic) finish() {
	tr.stop()
	tr.wg.Wait()
}

// stopping reports whether finish was called.
func (tr *traffic) stopping() bool { return tr.ctx.Err() != nil }

// requests sends requests of one method, one at a time on the worker's own
// connection (a new one after every tenth request), until stopped. A POST carries a body of 1 to 64 KiB whose
// length and digest the backend must report.
func (tr *traffic) requests(kind string, worker int) {
	k := tr.kinds[kind]
	c := gatewayClient()
	c.Transport.(*http.Transport).MaxIdleConnsPerHost = 1
	for seq := 0; !tr.stopping() && seq < maxLoadRequests; seq++ {
		target := fmt.Sprintf("http://%s/%s/%d/%d", tr.o.Host, strings.ToLower(kind), worker, seq)
		var body []byte
		if kind == kindPOST {
			body = make([]byte, 1024+mrand.IntN(63*1024))
			_, _ = rand.Read(body)
		}
		// Every tenth request ends its connection, as clients come and
		// go: new connections spread over the gateway replicas, where a
		// kept-alive one would stay with one replica for good.
		if err := tr.request(c, kind, target, body, seq%10 == 9); err != nil {
			if tr.stopping() {
				return
			}
			k.fail("%s: %v", target, err)
		} else {
			k.ok.Add(1)
		}
		// Paced, so the load leaves CPU to the control plane it is testing.
		time.Sleep(loadPace)
	}
}

func (tr *traffic) request(c *http.Client, method, target string, body []byte, closeConn bool) error {
	req, err := http.NewRequestWithContext(tr.ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Close = closeConn
	if body == nil {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	} else {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("read body (status %d): %w", res.StatusCode, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", res.StatusCode, b)
	}
	var e echo.Response
	if err := json.Unmarshal(b, &e); err != nil {
		return fmt.Errorf("decode echo answer: %w", err)
	}
	switch {
	case e.Namespace != tr.o.NS:
		return fmt.Errorf("answered from namespace %q", e.Namespace)
	case e.Method != method:
		return fmt.Errorf("backend saw method %s", e.Method)
	case e.Path != req.URL.Path:
		return fmt.Errorf("backend saw path %s", e.Path)
	}
	sum := sha256.Sum256(body)
	if want := hex.EncodeToString(sum[:]); body != nil && (e.BodyLength != int64(len(body)) || e.BodySHA256 != want) {
		return fmt.Errorf("backend got a body of %d bytes (sha256 %.12s), sent %d (%.12s)", e.BodyLength, e.BodySHA256, len(body), want)
	}
	return nil
}

// stream keeps one long-lived stream up: it connects, lets serve run
// until the stream ends, records how it ended, and reconnects at once
// until stopped. A failed connection attempt is a failure of the kind.
func (tr *traffic) stream(kind string, i int, serve func(k *kindStats, i int) (streamEnd, bool)) {
	k := tr.kinds[kind]
	for !tr.stopping() {
		end, connected := serve(k, i)
		if tr.stopping() {
			return
		}
		if !connected {
			k.fail("connect: %s %s", end.How, end.Detail)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		k.ok.Add(1)
		end.At = time.Now()
		k.ended(end)
		if !cleanEnd(end.How) {
			k.fail("stream ended %s after %d messages: %s", end.How, end.Messages, end.Detail)
		}
	}
}

// classify names how a read or write on a stream's connection failed.
func classify(err error) (string, string) {
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return endEOF, ""
	case errors.Is(err, syscall.ECONNRESET):
		return endReset, err.Error()
	case errors.Is(err, io.ErrUnexpectedEOF):
		return endTruncated, err.Error()
	}
	return endError, err.Error()
}

// streamClient is an HTTP client for streams: no overall timeout, a new
// connection per stream.
func streamClient() *http.Client {
	c := gatewayClient()
	c.Timeout = 0
	tr := c.Transport.(*http.Transport)
	tr.DisableKeepAlives = true
	tr.ResponseHeaderTimeout = 10 * time.Second
	return c
}

// events reads one connection of server-sent events from /sse, resuming
// after the last event seen: every event must be the one after it (none
// lost, none repeated), from a Pod of the namespace.
func (tr *traffic) events(k *kindStats, i int) (streamEnd, bool) {
	lastID := int(tr.lastEvent[i].Load())
	req, err := http.NewRequestWithContext(tr.ctx, http.MethodGet, "http://"+tr.o.Host+"/sse?interval=50ms", nil)
	if err != nil {
		return streamEnd{How: endError, Detail: err.Error()}, false
	}
	if lastID > 0 {
		req.Header.Set("Last-Event-ID", strconv.Itoa(lastID))
	}
	res, err := streamClient().Do(req)
	if err != nil {
		how, detail := classify(err)
		return streamEnd{How: how, Detail: detail}, false
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 200))
		return streamEnd{How: endError, Detail: fmt.Sprintf("status %d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), b)}, false
	}
	k.connected()
	end := streamEnd{}
	r := bufio.NewReader(res.Body)
	partial := false
	var ev echo.Event
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			end.How, end.Detail = classify(err)
			if end.How == endEOF && (partial || line != "") {
				end.How, end.Detail = endTruncated, "the stream ended inside an event"
			}
			return end, true
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && partial:
			partial = false
			if ev.ID != lastID+1 || ev.Namespace != tr.o.NS {
				k.fail("event %d from %s after event %d", ev.ID, ev.Namespace, lastID)
			}
			lastID = ev.ID
			tr.lastEvent[i].Store(int64(lastID))
			tr.lastImage[i].Store(ev.Image)
			end.Messages++
			k.received()
		case strings.HasPrefix(line, "data: "):
			partial = true
			if err := json.Unmarshal([]byte(line[len("data: "):]), &ev); err != nil {
				k.fail("event data %q: %v", line, err)
			}
		case strings.HasPrefix(line, "id: "):
			partial = true
		}
	}
}

// webSocket holds one WebSocket to /ws: it sends a numbered text message
// every 50 ms and wants each echoed back as sent, and answers a close
// frame with its own (RFC 6455's closing handshake).
func (tr *traffic) webSocket(k *kindStats, i int) (streamEnd, bool) {
	conn, r, err := dialWebSocket(tr.ctx, tr.o.Host)
	if err != nil {
		how, detail := classify(err)
		return streamEnd{How: how, Detail: detail}, false
	}
	defer func() { _ = conn.Close() }()
	k.connected()
	stop := context.AfterFunc(tr.ctx, func() { _ = conn.Close() })
	defer stop()
	end := streamEnd{}
	for seq := 0; ; seq++ {
		msg := []byte(fmt.Sprintf("ws %d message %d", i, seq))
		if err := writeFrame(conn, wsText, msg); err != nil {
			// The reader below tells how the peer ended it.
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		}
		for {
			op, payload, err := readFrame(r)
			switch {
			case err != nil:
				end.How, end.Detail = classify(err)
				return end, true
			case op == wsClose:
				end.How = endCloseFrame
				if len(payload) >= 2 {
					end.Detail = fmt.Sprintf("status %d", binary.BigEndian.Uint16(payload))
				}
				_ = writeFrame(conn, wsClose, payload[:min(2, len(payload))])
				return end, true
			case op == wsPing:
				_ = writeFrame(conn, wsPong, payload)
				continue
			case !bytes.Equal(payload, msg):
				k.fail("sent %q, echoed %q", msg, payload)
			}
			end.Messages++
			k.received()
			break
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-tr.ctx.Done():
			return end, true
		}
	}
}

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	wsText  = 0x1
	wsClose = 0x8
	wsPing  = 0x9
	wsPong  = 0xA
)

// dialWebSocket opens a WebSocket to /ws of host through the gateway.
func dialWebSocket(ctx context.Context, host string) (net.Conn, *bufio.Reader, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(localcluster.GatewayAddress, "80"))
	if err != nil {
		return nil, nil, err
	}
	keyBytes := make([]byte, 16)
	_, _ = rand.Read(keyBytes)
	key := base64.StdEncoding.EncodeToString(keyBytes)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: http://%s\r\n\r\n", host, key, host); err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	r := bufio.NewReader(conn)
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) //nolint:gosec // RFC 6455
	if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 200))
		_ = conn.Close()
		return nil, nil, fmt.Errorf("upgrade answered %d: %s", res.StatusCode, b)
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, r, nil
}

// writeFrame writes one masked frame, as a client must.
func writeFrame(w io.Writer, op byte, payload []byte) error {
	var hdr []byte
	hdr = append(hdr, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xFFFF:
		hdr = append(hdr, 0x80|126)
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	masked := slices.Clone(payload)
	for i := range masked {
		masked[i] ^= mask[i%4]
	}
	_, err := w.Write(append(hdr, masked...))
	return err
}

// readFrame reads one unfragmented frame from the server. io.EOF means the
// connection ended at a frame boundary; io.ErrUnexpectedEOF inside one.
func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0]&0x80 == 0 {
		return 0, nil, errors.New("fragmented frame")
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, unexpected(err)
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, unexpected(err)
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if h[1]&0x80 != 0 || n > 1<<20 {
		return 0, nil, fmt.Errorf("bad frame from the server (masked %t, %d bytes)", h[1]&0x80 != 0, n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, unexpected(err)
	}
	return h[0] & 0x0F, payload, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// report logs the figures of every kind and returns the failures of each.
func (tr *traffic) report(t *testing.T, what string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, kind := range []string{kindGET, kindPOST, kindSSE, kindWebSocket} {
		k := tr.kinds[kind]
		k.mu.Lock()
		ends := map[string]int{}
		for _, e := range k.ends {
			ends[e.How]++
		}
		if k.failed.Load() > 0 {
			out[kind] = slices.Clone(k.failures)
		}
		k.mu.Unlock()
		switch kind {
		case kindGET, kindPOST:
			t.Logf("%s, %s: %d ok, %d failed", what, kind, k.ok.Load(), k.failed.Load())
		default:
			connects := k.connects.Load()
			t.Logf("%s, %s: %d connections (%d reconnects), %d messages, %d since the last connect, ends %v, %d failed",
				what, kind, connects, max(0, connects-int64(tr.streams(kind))), k.messages.Load(), k.messagesSince.Load(), ends, k.failed.Load())
		}
	}
	return out
}

// eventImage is the image of the Pod that sent SSE stream i's last event.
func (tr *traffic) eventImage(i int) string {
	s, _ := tr.lastImage[i].Load().(string)
	return s
}

// streams is the number of streams of a kind.
func (tr *traffic) streams(kind string) int {
	if kind == kindSSE {
		return tr.o.SSE
	}
	return tr.o.WebSockets
}

// ends returns the unrequested stream ends of a kind.
func (tr *traffic) ends(kind string) []streamEnd {
	k := tr.kinds[kind]
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.ends)
}
