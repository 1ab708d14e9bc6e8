package ir

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
)

// Fingerprint is a digest of everything in the table the data plane serves
// from: equal fingerprints mean publishing one table after the other
// changes nothing. The translator is deterministic, so an unchanged world
// gives an unchanged fingerprint. The canonical JSON covers the table but
// leaves out key material (json:"-"), which is hashed separately so that a
// renewed certificate is published.
func (t *Table) Fingerprint() ([sha256.Size]byte, error) {
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(t); err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("encode table: %w", err)
	}
	for _, l := range t.Listeners {
		for _, c := range l.Certificates {
			for _, p := range c.Pairs {
				// Length-prefixed so that moving bytes between the
				// certificate and the key changes the digest.
				fmt.Fprintf(h, "%d:%s%d:%s", len(p.CertPEM), p.CertPEM, len(p.KeyPEM), p.KeyPEM)
			}
		}
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum, nil
}
