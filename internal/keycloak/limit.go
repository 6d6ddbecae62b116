package keycloak

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxAnswer is the largest answer body roster reads. The largest legitimate answers are the
// pages of the user listing: 500 full user representations, a few KiB each, and even with
// generous attributes (64 KiB per user) 32 MiB; pages grow past 500 users only while their
// answers stay far smaller (pageSizer). Twice that leaves room; anything larger is not Keycloak
// answering, and reading on would only grow memory until the process dies.
const MaxAnswer = 64 << 20

// TooLargeError is an answer whose body exceeds MaxAnswer.
type TooLargeError struct {
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the answer is larger than %d MiB, more than Keycloak ever sends; roster stopped reading it", e.Limit>>20)
}

// Hints says what to check.
func (e *TooLargeError) Hints() []string {
	return []string{"check that the server URL points at Keycloak and that nothing between roster and Keycloak rewrites its answers"}
}

// tooLarge reports whether err is a TooLargeError.
func tooLarge(err error) bool {
	var e *TooLargeError
	return errors.As(err, &e)
}

// limitTransport ends every answer body at max bytes with a TooLargeError, so that a broken or
// hostile server cannot make roster read without end.
type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, &TooLargeError{Limit: t.max}
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max, limit: t.max}
	return resp, nil
}

// limitedBody reads at most limit bytes and fails on the next one.
type limitedBody struct {
	rc    io.ReadCloser
	left  int64
	limit int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Read one byte more to tell a body of exactly limit bytes from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, &TooLargeError{Limit: b.limit}
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
