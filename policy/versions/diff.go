package versions

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// List returns every version, newest first.
func (w *Workflow) List(ctx context.Context) ([]*Version, error) { return w.Store.List(ctx) }

// Get returns one version.
func (w *Workflow) Get(ctx context.Context, id string) (*Version, error) { return w.Store.Get(ctx, id) }

// Diff is a unified diff of the files of two versions (modules, tests and
// data.json), from a to b, file by file in name order.
func Diff(a, b *Version) string {
	fa, fb := a.Files(), b.Files()
	names := slices.Sorted(maps.Keys(fa))
	for n := range fb {
		if _, ok := fa[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out strings.Builder
	for _, n := range names {
		from, to := "a/"+n, "b/"+n
		if _, ok := fa[n]; !ok {
			from = "/dev/null"
		}
		if _, ok := fb[n]; !ok {
			to = "/dev/null"
		}
		d, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(string(fa[n])), B: difflib.SplitLines(string(fb[n])),
			FromFile: from + " (" + a.ID + ")", ToFile: to + " (" + b.ID + ")", Context: 3,
		})
		out.WriteString(d)
	}
	return out.String()
}
