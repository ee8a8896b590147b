package auth

import (
	"sync"
	"time"
)

// verified remembers tokens whose signature has been checked, with the key
// that checked it, so that a client sending the same token on every
// request (as SMART and CIS2 clients do until it expires) costs one
// signature check, not one per request. Only the signature check is
// remembered: the times, audience and claims are checked on every use,
// and a token is checked again once its issuer's key set no longer holds
// the same key (a rotation, a refresh). Only tokens that verified are
// kept, at most maxVerified, each until its expiry.
type verified struct {
	mu     sync.Mutex
	tokens map[string]verifiedToken
}

type verifiedToken struct {
	key *publicKey
	exp time.Time
}

const maxVerified = 10000

// holds reports whether token's signature was verified with key.
func (v *verified) holds(token string, key *publicKey) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	t, ok := v.tokens[token]
	return ok && t.key == key
}

// add remembers that token's signature verified with key; now is for
// making room, by forgetting expired tokens (or, if none, every token).
func (v *verified) add(token string, key *publicKey, exp, now time.Time) {
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
	v.tokens[token] = verifiedToken{key: key, exp: exp}
}
