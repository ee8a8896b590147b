package casefile

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
)

// Member is one person of the population a sample is drawn from, in the
// stratum (team or service) they are counted in.
type Member struct {
	Patient string // "Patient/<id>"
	Stratum string
}

// Draw draws a stratified random sample of size people from population,
// reproducibly: the same seed over the same population gives the same
// people, whatever order the population comes in.
//
// The algorithm, so that anyone can check a sample by hand:
//
//  1. Each person is counted once (the first stratum given for them wins;
//     the gateway gives one stratum a person).
//  2. Allocation: when size covers the population, everyone is drawn.
//     Otherwise each stratum h of N_h people out of N gets the quota
//     q_h = size * N_h / N, and first max(1, floor(q_h)) people (at most
//     N_h): at least one per stratum where size allows. While more are
//     allocated than size, the stratum furthest over its quota
//     (allocation - q_h, ties by name) that has more than one gives one
//     back; while fewer, the stratum with the largest remainder
//     (q_h - allocation, ties by name) that has people left gets one
//     more. When size is smaller than the number of strata, the size
//     strata that rank first by SHA-256(seed, 0x01, stratum) get one each.
//  3. Within a stratum people are ranked by SHA-256(seed, 0x00, patient
//     reference), as lowercase hex, and the first ones allocated are
//     drawn.
//
// The sample is returned stratum by stratum (strata by name), each in
// rank order.
func Draw(population []Member, size int, seed string) []Member {
	seen := map[string]bool{}
	strata := map[string][]Member{}
	for _, m := range population {
		if seen[m.Patient] {
			continue
		}
		seen[m.Patient] = true
		strata[m.Stratum] = append(strata[m.Stratum], m)
	}
	names := make([]string, 0, len(strata))
	for h := range strata {
		names = append(names, h)
	}
	slices.Sort(names)
	alloc := Allocate(names, func(h string) int { return len(strata[h]) }, size, seed)
	var out []Member
	for _, h := range names {
		ms := strata[h]
		slices.SortFunc(ms, func(a, b Member) int {
			return cmp.Or(cmp.Compare(rank(seed, 0, a.Patient), rank(seed, 0, b.Patient)), cmp.Compare(a.Patient, b.Patient))
		})
		out = append(out, ms[:alloc[h]]...)
	}
	return out
}

// Allocate is step 2 of Draw: how many people each stratum of names
// (sorted) gives, sized by n.
func Allocate(names []string, n func(string) int, size int, seed string) map[string]int {
	alloc := map[string]int{}
	total := 0
	for _, h := range names {
		total += n(h)
	}
	if size >= total {
		for _, h := range names {
			alloc[h] = n(h)
		}
		return alloc
	}
	if size < len(names) {
		byRank := slices.Clone(names)
		slices.SortFunc(byRank, func(a, b string) int { return cmp.Compare(rank(seed, 1, a), rank(seed, 1, b)) })
		for _, h := range byRank[:size] {
			alloc[h] = 1
		}
		return alloc
	}
	quota := map[string]float64{}
	sum := 0
	for _, h := range names {
		quota[h] = float64(size) * float64(n(h)) / float64(total)
		alloc[h] = min(max(1, int(quota[h])), n(h))
		sum += alloc[h]
	}
	for sum > size {
		best := ""
		for _, h := range names {
			if alloc[h] > 1 && (best == "" || float64(alloc[h])-quota[h] > float64(alloc[best])-quota[best]) {
				best = h
			}
		}
		alloc[best]--
		sum--
	}
	for sum < size {
		best := ""
		for _, h := range names {
			if alloc[h] < n(h) && (best == "" || quota[h]-float64(alloc[h]) > quota[best]-float64(alloc[best])) {
				best = h
			}
		}
		alloc[best]++
		sum++
	}
	return alloc
}

// rank is SHA-256 of seed, the separator byte and s, in hex.
func rank(seed string, sep byte, s string) string {
	h := sha256.New()
	h.Write([]byte(seed))
	h.Write([]byte{sep})
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}
