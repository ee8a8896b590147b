// Command callers measures the gateway as its real callers use it: a GP
// practice and an NHS trust with care relationships, and a council social
// worker, each with their own token, under the policy the gateway runs
// (the baseline policy in policy/, never the allow-all test policy). It
// issues each request shape sequentially over one keep-alive connection
// and prints p50 and p99 latency per caller and shape as a Markdown table.
//
//	go run ./bench/callers -url http://127.0.0.1:8080 -gp $GP -trust $TRUST -sw $SW
//
// scripts/bench/callers.sh makes a data set of a given size, imports it,
// starts the gateway and runs this.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

type caller struct{ name, token string }

type shape struct {
	name string
	path func(patient string, i int) string
}

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "the gateway's base URL")
	gp := flag.String("gp", "", "bearer token of a GP practice user")
	trust := flag.String("trust", "", "bearer token of an NHS trust user")
	sw := flag.String("sw", "", "bearer token of a council social worker")
	n := flag.Int("n", 200, "requests per caller and shape")
	since := flag.String("since", time.Now().AddDate(0, -1, 0).Format("2006-01-02"), "date of the organisation-wide search (date=geSINCE)")
	flag.Parse()
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(token, path string) (int, map[string]any, error) {
		req, _ := http.NewRequest("GET", *base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/fhir+json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, nil, err
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		return resp.StatusCode, m, nil
	}
	shapes := []shape{
		{"read Patient by id", func(p string, _ int) string { return "/Patient/" + p }},
		{"Encounter?patient=X&_count=50", func(p string, _ int) string { return "/Encounter?patient=" + p + "&_count=50" }},
		{"... &_total=accurate", func(p string, _ int) string { return "/Encounter?patient=" + p + "&_count=50&_total=accurate" }},
		{"Encounter?date=ge" + *since + "&_count=50 (organisation-wide)", func(string, int) string { return "/Encounter?date=ge" + *since + "&_count=50" }},
	}
	fmt.Println("| caller | request | p50 | p99 | mean entries |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	for _, c := range []caller{{"GP practice", *gp}, {"NHS trust", *trust}, {"social worker", *sw}} {
		if c.token == "" {
			continue
		}
		// The patients this caller may see: the policy restricts the search.
		status, page, err := get(c.token, "/Patient?_count=100&_elements=id")
		if err != nil || status != 200 {
			fmt.Fprintf(os.Stderr, "%s: patient search: status %d %v\n", c.name, status, err)
			os.Exit(1)
		}
		var patients []string
		for _, e := range list(page["entry"]) {
			if r, ok := e.(map[string]any)["resource"].(map[string]any); ok {
				patients = append(patients, r["id"].(string))
			}
		}
		if len(patients) == 0 {
			fmt.Fprintf(os.Stderr, "%s sees no patients: is the data set imported and the token right?\n", c.name)
			os.Exit(1)
		}
		for _, s := range shapes {
			var lat []time.Duration
			entries := 0
			for i := range *n + 10 {
				path := s.path(patients[i%len(patients)], i)
				t := time.Now()
				status, body, err := get(c.token, path)
				d := time.Since(t)
				if err != nil || status != 200 {
					fmt.Fprintf(os.Stderr, "%s %s: status %d %v\n", c.name, path, status, err)
					os.Exit(1)
				}
				if i < 10 {
					continue // warm-up: the caller's policy plan, caches
				}
				lat = append(lat, d)
				entries += len(list(body["entry"]))
			}
			slices.Sort(lat)
			mean := "-"
			if !strings.HasPrefix(s.name, "read") {
				mean = fmt.Sprintf("%.1f", float64(entries)/float64(len(lat)))
			}
			fmt.Printf("| %s | %s | %s | %s | %s |\n", c.name, s.name, ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), mean)
		}
	}
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
