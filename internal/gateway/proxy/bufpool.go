package proxy

import "sync"

// bufferPool recycles ReverseProxy's copy buffers. Without one, every
// response allocates (and the GC then clears and scans) a fresh 32 KiB
// buffer: the largest single cost the benchmark profile showed.
type bufferPool struct{ p sync.Pool }

const copyBufferSize = 32 << 10 // ReverseProxy's own default

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any {
		b := make([]byte, copyBufferSize)
		return &b
	}}}
}

// Get and Put implement httputil.BufferPool. The pool holds *[]byte so
// that Put does not allocate an interface value per call.
func (bp *bufferPool) Get() []byte { return *bp.p.Get().(*[]byte) }

func (bp *bufferPool) Put(b []byte) {
	if cap(b) < copyBufferSize {
		return
	}
	b = b[:copyBufferSize]
	bp.p.Put(&b)
}
