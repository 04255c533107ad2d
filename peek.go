package llmretry

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strings"
)

// maxErrorBody bounds how much of an error response body is read to classify
// it, and how much of it is decompressed. The bytes read are given back to the
// caller with the rest of the body, as they came.
const maxErrorBody = 64 << 10

// peekBody reads at most maxErrorBody bytes of resp.Body and replaces
// resp.Body with a reader that yields those bytes and then the rest. It
// returns the prefix to classify: decompressed if the body is gzip or
// deflate encoded and the Base did not decode it (a Base with
// DisableCompression, or a caller who asked for gzip), as read otherwise.
func peekBody(resp *http.Response) []byte {
	if resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	if pb, ok := resp.Body.(*peekedBody); ok {
		return pb.text // classified before (e.g. CheckRetry, then Backoff): same bytes
	}
	size := int64(maxErrorBody)
	if resp.ContentLength >= 0 && resp.ContentLength < size {
		size = resp.ContentLength
	}
	// ReadAll grows its buffer as bytes arrive, so a small body of unknown
	// length does not cost a 64 KiB allocation.
	buf, err := io.ReadAll(io.LimitReader(resp.Body, size))
	pb := &peekedBody{prefixReader: prefixReader{rest: resp.Body, prefix: buf, err: err}, text: buf,
		whole: err == nil && (int64(len(buf)) < size || int64(len(buf)) == resp.ContentLength)}
	if !resp.Uncompressed {
		pb.text = decompress(resp.Header.Get("Content-Encoding"), buf)
	}
	resp.Body = pb
	return pb.text
}

// decompress decodes at most maxErrorBody bytes of a body prefix b sent with
// Content-Encoding enc. A prefix cut mid-stream gives what it holds; one
// that does not decode is returned as it is.
func decompress(enc string, b []byte) []byte {
	var r io.Reader
	var err error
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "", "identity":
		return b
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(bytes.NewReader(b))
	case "deflate": // zlib as RFC 9110 says, or raw deflate as some servers send
		if r, err = zlib.NewReader(bytes.NewReader(b)); err != nil {
			r, err = flate.NewReader(bytes.NewReader(b)), nil
		}
	default:
		return b // br, zstd: not in the standard library
	}
	if err != nil {
		return b
	}
	text, _ := io.ReadAll(io.LimitReader(r, maxErrorBody))
	if len(text) == 0 {
		return b
	}
	return text
}
