package metering

import (
	"crypto/rand"
	"encoding/hex"
)

// NewID returns a random version 4 UUID (RFC 9562), the shape of the
// request ids (HeaderRequestID) and metering record ids the service sends.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])  // crypto/rand documents that Read never returns an error
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}
