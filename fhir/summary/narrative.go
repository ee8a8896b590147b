package summary

import (
	"bytes"
	"html/template"
	"io"
)

// Line is one statement shown in a table cell. Opinion marks a
// professional's opinion (a record labelled professional-opinion), shown
// apart from facts.
type Line struct {
	Text    string
	Opinion bool
}

// Cell is what one table cell shows, line by line.
type Cell []Line

// fact is a cell of one factual line ("" shows an empty cell).
func fact(s string) Cell {
	if s == "" {
		return nil
	}
	return Cell{{Text: s}}
}

// table is a section's narrative: an optional sentence, then one row per
// entry; without rows, only Empty (every empty section reads the same,
// whatever the reason).
type table struct {
	Intro   string
	Columns []string
	Rows    []row
	Empty   string
}

type row []Cell

// narrative renders a section's XHTML div. html/template escapes every
// value, so record text can hold no markup.
var narrative = template.Must(template.New("section").Parse(
	`<div xmlns="http://www.w3.org/1999/xhtml">` +
		`{{if .Rows}}{{if .Intro}}<p>{{.Intro}}</p>{{end}}<table><thead><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr></thead><tbody>` +
		`{{range .Rows}}<tr>{{range .}}<td>{{range $i, $l := .}}{{if $i}}<br/>{{end}}` +
		`{{if $l.Opinion}}<em class="opinion">Professional opinion: {{$l.Text}}</em>{{else}}{{$l.Text}}{{end}}{{end}}</td>{{end}}</tr>{{end}}` +
		`</tbody></table>{{else}}<p>{{.Empty}}</p>{{end}}</div>`))

func (t table) div() (string, error) {
	var b bytes.Buffer
	if err := narrative.Execute(&b, t); err != nil {
		return "", err
	}
	return b.String(), nil
}

// page is the document as one readable HTML page: the person, then every
// section's narrative as generated (already escaped by narrative).
var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;width:100%;margin-bottom:1em}th,td{border-bottom:1px solid #ccc;padding:.4em;text-align:left;vertical-align:top}em.opinion{color:#6a3d9a}dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}</style></head>
<body><h1>{{.Title}}</h1>
<dl>{{if .Person.Name}}<dt>Name</dt><dd>{{.Person.Name}}</dd>{{end}}{{if .Person.NHSNumber}}<dt>NHS number</dt><dd>{{.Person.NHSNumber}}</dd>{{end}}{{if .Person.BirthDate}}<dt>Date of birth</dt><dd>{{.Person.BirthDate}}</dd>{{end}}<dt>Generated</dt><dd>{{.Generated}}</dd></dl>
<p>Generated from the social care record on request; it shows only what you may see. Statements marked <em class="opinion">Professional opinion</em> are a worker's opinion, not established fact.</p>
{{range .Sections}}<section><h2>{{.Title}}</h2>{{.HTML}}</section>
{{end}}</body></html>
`))

// WriteHTML writes the document as a readable HTML page.
func (d *Document) WriteHTML(w io.Writer) error {
	type section struct {
		Title string
		HTML  template.HTML
	}
	data := struct {
		Title, Generated string
		Person           Person
		Sections         []section
	}{Title: d.Title, Generated: when(d.Timestamp), Person: d.Person}
	for _, s := range d.Sections {
		// The div was produced by narrative, which escaped every value.
		data.Sections = append(data.Sections, section{Title: s.Title, HTML: template.HTML(s.Div)}) //nolint:gosec
	}
	return page.Execute(w, data)
}
