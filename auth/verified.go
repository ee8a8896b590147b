package auth

import (
	"sync"
	"time"
)

// verified remembers tokens whose signature has been checked, with the key
// that checked it and their decoded claims, so that a client sending the
// same token on every request (as SMART and CIS2 clients do until it
// expires) costs one signature check and one decoding, not one per
// request. Only the signature check and the decoding are remembered: the
// times, audience and claims are checked on every use,
// and a token is checked again once its issuer's key set no longer holds
// the same key (a rotation, a refresh). Only tokens that verified are
// kept, at most maxVerified, each until its expiry.
type verified struct {
	mu     sync.Mutex
	tokens map[string]verifiedToken
}

type verifiedToken struct {
	key    *publicKey
	kid    string
	claims *claims // never changed once decoded
	exp    time.Time
}

const maxVerified = 10000

// get is what is remembered of token.
func (v *verified) get(token string) (verifiedToken, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	t, ok := v.tokens[token]
	return t, ok
}

// add remembers that token's signature verified with t.key; now is for
// making room, by forgetting expired tokens (or, if none, every token).
func (v *verified) add(token string, t verifiedToken, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tokens == nil {
		v.tokens = map[string]verifiedToken{}
	}
	if len(v.tokens) >= maxVerified {
		for k, t := range v.tokens {
			if !t.exp.After(now) {
				delete(v.tokens, k)
			}
		}
		if len(v.tokens) >= maxVerified {
			clear(v.tokens)
		}
	}
	v.tokens[token] = t
}
