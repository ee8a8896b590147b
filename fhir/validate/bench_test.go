package validate

import (
	"os"
	"testing"
)

func BenchmarkResource(b *testing.B) {
	for _, name := range []string{"patient", "observation"} {
		body, err := os.ReadFile("testdata/" + name + ".json")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := Resource(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
