package validate

import "strconv"

// path is a FHIRPath-like location built as a linked list on the stack while
// walking; it becomes a string only when a problem is reported.
type path struct {
	parent *path
	name   string
	index  int // position in a repeating element, or -1
}

func (p *path) child(name string) path { return path{parent: p, name: name, index: -1} }

func (p *path) at(i int) path { return path{parent: p.parent, name: p.name, index: i} }

func (p *path) String() string {
	var segs []*path
	for q := p; q != nil; q = q.parent {
		segs = append(segs, q)
	}
	b := make([]byte, 0, 64)
	for i := len(segs) - 1; i >= 0; i-- {
		if i != len(segs)-1 {
			b = append(b, '.')
		}
		b = append(b, segs[i].name...)
		if segs[i].index >= 0 {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(segs[i].index), 10)
			b = append(b, ']')
		}
	}
	return string(b)
}
