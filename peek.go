package llmretry

import (
	"io"
	"net/http"
)

// maxErrorBody bounds how much of an error response body is read to classify
// it. The bytes read are given back to the caller with the rest of the body.
const maxErrorBody = 64 << 10

// peekBody reads at most maxErrorBody bytes of resp.Body and replaces
// resp.Body with a reader that yields those bytes and then the rest.
func peekBody(resp *http.Response) []byte {
	if resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	if pb, ok := resp.Body.(*peekedBody); ok {
		return pb.prefix // classified before (e.g. CheckRetry, then Backoff): same bytes
	}
	size := int64(maxErrorBody)
	if resp.ContentLength >= 0 && resp.ContentLength < size {
		size = resp.ContentLength
	}
	// ReadAll grows its buffer as bytes arrive, so a small body of unknown
	// length does not cost a 64 KiB allocation.
	buf, err := io.ReadAll(io.LimitReader(resp.Body, size))
	pb := &peekedBody{prefix: buf, rest: resp.Body, err: err}
	resp.Body = pb
	return buf
}

// peekedBody gives back the bytes peekBody read, then the rest of the body.
type peekedBody struct {
	prefix []byte
	off    int
	err    error // a read error met while peeking, returned after prefix
	rest   io.ReadCloser
}

func (b *peekedBody) Read(p []byte) (int, error) {
	if b.off < len(b.prefix) {
		n := copy(p, b.prefix[b.off:])
		b.off += n
		return n, nil
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.rest.Read(p)
}

func (b *peekedBody) Close() error { return b.rest.Close() }
