package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/export"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
	"github.com/socialcare-fhir/gateway/policy"
)

// An export runs in the background, type by type and page by page: each
// page is searched with the policy's restriction of its owner (as a
// search by them would be), each resource decided and redacted, the
// allowed ones appended to the type's NDJSON file, and the job saved
// with the page's cursor and the files' lengths. Memory holds one page
// whatever the export's size; a restarted gateway resumes each running
// job from its last saved page (ResumeExports), cutting its last file
// back to the saved length first.

func (s *Server) now() time.Time { return s.cfg.Now() }

// exportDir is the directory of a job's files.
func (s *Server) exportDir(id string) string { return filepath.Join(s.cfg.ExportDir, id) }

// startExport runs job in the background until it ends, is cancelled
// (stopExport) or the server closes (Close: it stays running, to resume).
func (s *Server) startExport(job *export.Job) {
	ctx, cancel := context.WithCancel(s.bg)
	done := make(chan struct{})
	s.mu.Lock()
	s.running[job.ID] = runningExport{cancel: cancel, done: done}
	s.mu.Unlock()
	s.wg.Go(func() {
		defer close(done)
		defer cancel()
		defer func() {
			s.mu.Lock()
			delete(s.running, job.ID)
			s.mu.Unlock()
		}()
		defer s.recoverExport(job)
		s.runExport(ctx, job)
	})
}

// recoverExport turns a panic in an export's run into a failed job (and
// a log line without content), instead of a crashed gateway.
func (s *Server) recoverExport(job *export.Job) {
	r := recover()
	if r == nil {
		return
	}
	s.logger.Error("panic in export", "job", job.ID, "panic", fmt.Sprint(r))
	job.State = export.Failed
	now := s.now().UTC().Truncate(time.Millisecond)
	job.Finished, job.Updated, job.Expires = now, now, now.Add(s.cfg.ExportExpiry)
	job.Problems = []fhir.Issue{{Severity: "error", Code: "exception", Diagnostics: "The export stopped because of an internal error; start it again."}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.cfg.Exports.Save(ctx, job); err != nil {
		s.logger.Error("export job not saved", "job", job.ID, "error", err.Error())
	}
}

type runningExport struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// stopExport cancels a running export and waits for it to stop.
func (s *Server) stopExport(id string) {
	s.mu.Lock()
	r, ok := s.running[id]
	s.mu.Unlock()
	if ok {
		r.cancel()
		<-r.done
	}
}

// ResumeExports restarts the exports a stopped gateway left running, and
// removes the files of those past their expiry. Call it once at start-up.
func (s *Server) ResumeExports(ctx context.Context) error {
	if s.cfg.Exports == nil || s.cfg.Policy == nil {
		return nil // nothing is exported without a policy to decide it
	}
	jobs, err := s.cfg.Exports.InState(ctx, export.Running)
	if err != nil {
		return fmt.Errorf("list running exports: %w", err)
	}
	for _, j := range jobs {
		s.logger.Info("export resumed", "job", j.ID, "type", j.Position.Type)
		s.startExport(j)
	}
	for _, state := range []string{export.Done, export.Failed} {
		jobs, err := s.cfg.Exports.InState(ctx, state)
		if err != nil {
			return fmt.Errorf("list finished exports: %w", err)
		}
		for _, j := range jobs {
			if err := s.expire(ctx, j); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close stops the running exports (their jobs stay running, to be
// resumed) and waits for them, or for ctx to end.
func (s *Server) Close(ctx context.Context) error {
	s.stop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// expire removes a finished job's files once it has expired, and marks
// it so.
func (s *Server) expire(ctx context.Context, job *export.Job) error {
	if job.State == export.Running || job.State == export.Expired || s.now().Before(job.Expires) {
		return nil
	}
	if err := os.RemoveAll(s.exportDir(job.ID)); err != nil {
		return fmt.Errorf("remove expired export files: %w", err)
	}
	job.State = export.Expired
	return s.cfg.Exports.Save(ctx, job)
}

// runExport exports job from its position to the end, then records it
// done, or failed with the reason. A cancelled run records nothing.
func (s *Server) runExport(ctx context.Context, job *export.Job) {
	err := s.exportTypes(ctx, job)
	if ctx.Err() != nil {
		return
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	job.Finished, job.Updated, job.Expires = now, now, now.Add(s.cfg.ExportExpiry)
	if err == nil {
		err = s.writeNotes(job)
	}
	job.State = export.Done
	if err != nil {
		s.logger.Warn("export failed", "job", job.ID, "error", err.Error())
		job.State = export.Failed
		why := "an internal error occurred"
		if errors.Is(err, fhir.ErrUnavailable) {
			why = "the record store became unavailable"
		}
		job.Problems = []fhir.Issue{{Severity: "error", Code: "incomplete", Diagnostics: fmt.Sprintf(
			"The export stopped after %d resources because %s; start it again.", job.Progress(), why)}}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.cfg.Exports.Save(sctx, job); err != nil {
		s.logger.Error("export job not saved", "job", job.ID, "error", err.Error())
	}
}

// exportTypes writes every type from the job's position on.
func (s *Server) exportTypes(ctx context.Context, job *export.Job) error {
	if err := os.MkdirAll(s.exportDir(job.ID), 0o700); err != nil {
		return fmt.Errorf("export directory: %w", err)
	}
	if job.Level == export.LevelGroup && len(job.Patients) == 0 {
		job.Position = export.Position{Type: len(job.Types)} // a group with no current members: nobody
	}
	for job.Position.Type < len(job.Types) {
		if err := s.exportType(ctx, job, job.Types[job.Position.Type]); err != nil {
			return err
		}
	}
	return nil
}

// exportAccess is the access of the job's owner, with the current policy,
// for one type: its facts are looked up once, and its decisions are not
// kept in a trail.
func (s *Server) exportAccess(job *export.Job) *access {
	o := job.Owner
	id := &auth.Identity{Kind: o.Kind, Subject: o.Subject, Org: o.Org, Role: o.Role, Purpose: o.Purpose,
		BreakGlassReason: o.BreakGlassReason, NHSNumber: o.NHSNumber}
	return &access{server: s, id: id, engine: s.cfg.Policy.Current(), trail: &trail{bulk: true}}
}

// exportQuery is the search of one page of typ: changed after _since
// (unless in the compartment of a group member who joined after it) and
// by the transaction time, in a pinned patient's compartment (a group's
// members: always, none meaning nobody), matching one of the type's
// _typeFilters.
func exportQuery(job *export.Job, typ string, count int) (*search.Query, error) {
	sp := url.Values{"_count": {strconv.Itoa(count)}, "_lastUpdated": {"le" + job.TransactionTime.UTC().Format(time.RFC3339Nano)}}
	if job.Since != "" && len(job.Joined) == 0 {
		sp.Add("_lastUpdated", "gt"+job.Since)
	}
	q, err := search.Parse(typ, sp, search.Options{DefaultCount: count, MaxCount: count})
	if err != nil {
		return nil, err
	}
	if len(job.Patients) > 0 || job.Level == export.LevelGroup {
		q.Filter = cond.AllOf(q.Filter, cond.OneOf(cond.Compartment, job.Patients))
	}
	if job.Since != "" && len(job.Joined) > 0 {
		changed, err := search.Parse(typ, url.Values{"_lastUpdated": {"gt" + job.Since}}, search.Options{})
		if err != nil {
			return nil, err
		}
		q.Filter = cond.AllOf(q.Filter, cond.AnyOf(changed.Filter, cond.OneOf(cond.Compartment, job.Joined)))
	}
	if fs := job.TypeFilters[typ]; len(fs) > 0 {
		var any []*cond.Node
		for _, f := range fs {
			params, err := url.ParseQuery(f)
			if err != nil {
				return nil, err
			}
			fq, err := search.Parse(typ, params, search.Options{})
			if err != nil {
				return nil, err
			}
			any = append(any, fq.Filter)
		}
		q.Filter = cond.AllOf(q.Filter, cond.AnyOf(any...))
	}
	q.Cursor = job.Position.Cursor
	return q, nil
}

// exportType writes typ's resources page by page from the job's cursor,
// saving the job after each page.
func (s *Server) exportType(ctx context.Context, job *export.Job, typ string) error {
	a := s.exportAccess(job)
	w := &ndjsonWriter{dir: s.exportDir(job.ID), job: job, typ: typ, max: s.cfg.ExportFileResources}
	defer w.close()
	for {
		q, err := exportQuery(job, typ, s.cfg.ExportPageSize)
		if err != nil {
			return err
		}
		page, err := s.store.Search(ctx, q, a.restrictTo(policy.ActionSearch, typ, job.Patients))
		if err != nil {
			return err
		}
		allowed, err := a.decidePage(ctx, policy.ActionSearch, page.Matches)
		if err != nil {
			return err
		}
		// A page is decided once: its patients' facts are not asked for
		// again, and kept they would grow with the export.
		a.among = nil
		for _, v := range allowed {
			if err := w.write(v.JSON); err != nil {
				return err
			}
		}
		if err := w.sync(); err != nil {
			return err
		}
		// The type's last page moves the position to the next type in
		// the same save, so a resumed run never repeats it.
		job.Position.Cursor = page.Next
		if page.Next == "" {
			job.Position = export.Position{Type: job.Position.Type + 1}
		}
		if err := s.saveJob(ctx, job); err != nil {
			return err
		}
		if s.exportPageHook != nil {
			s.exportPageHook(job.ID)
		}
		if page.Next == "" || ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func (s *Server) saveJob(ctx context.Context, job *export.Job) error {
	job.Updated = s.now().UTC().Truncate(time.Millisecond)
	return s.cfg.Exports.Save(ctx, job)
}

// writeNotes writes the job's notes, if any, as an OperationOutcome
// NDJSON error file.
func (s *Server) writeNotes(job *export.Job) error {
	if len(job.Notes) == 0 || len(job.Errors) > 0 {
		return nil
	}
	var b bytes.Buffer
	for _, n := range job.Notes {
		line, err := fhir.MarshalResource(map[string]any{"resourceType": "OperationOutcome", "issue": []any{n}})
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	name := "OperationOutcome-1.ndjson"
	if err := os.WriteFile(filepath.Join(s.exportDir(job.ID), name), b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write export notes: %w", err)
	}
	job.Errors = []export.File{{Type: "OperationOutcome", Name: name, Count: len(job.Notes), Bytes: int64(b.Len())}}
	return nil
}

// ndjsonWriter appends one type's resources to its files, at most max a
// file, recording each file's count and length in the job.
type ndjsonWriter struct {
	dir string
	job *export.Job
	typ string
	max int
	f   *os.File
	buf *bufio.Writer
	cur *export.File
}

// open opens the type's last file to append to, cut back to its saved
// length (a resumed run), or starts the next one when it is full.
func (w *ndjsonWriter) open() error {
	if n := len(w.job.Output); n > 0 && w.job.Output[n-1].Type == w.typ && w.job.Output[n-1].Count < w.max {
		w.cur = &w.job.Output[n-1]
	} else {
		seq := 1
		for _, f := range w.job.Output {
			if f.Type == w.typ {
				seq++
			}
		}
		w.job.Output = append(w.job.Output, export.File{Type: w.typ, Name: fmt.Sprintf("%s-%d.ndjson", w.typ, seq)})
		w.cur = &w.job.Output[len(w.job.Output)-1]
	}
	f, err := os.OpenFile(filepath.Join(w.dir, w.cur.Name), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("open export file: %w", err)
	}
	if err := f.Truncate(w.cur.Bytes); err != nil {
		f.Close()
		return fmt.Errorf("cut export file back: %w", err)
	}
	if _, err := f.Seek(w.cur.Bytes, 0); err != nil {
		f.Close()
		return fmt.Errorf("seek export file: %w", err)
	}
	w.f, w.buf = f, bufio.NewWriterSize(f, 64<<10)
	return nil
}

func (w *ndjsonWriter) write(resource []byte) error {
	if w.f != nil && w.cur.Count >= w.max {
		if err := w.close(); err != nil {
			return err
		}
	}
	if w.f == nil {
		if err := w.open(); err != nil {
			return err
		}
	}
	line := bytes.TrimSpace(resource)
	if _, err := w.buf.Write(line); err != nil {
		return fmt.Errorf("write export file: %w", err)
	}
	if err := w.buf.WriteByte('\n'); err != nil {
		return fmt.Errorf("write export file: %w", err)
	}
	w.cur.Count++
	w.cur.Bytes += int64(len(line)) + 1
	return nil
}

// sync makes what was written durable before the job says it was.
func (w *ndjsonWriter) sync() error {
	if w.f == nil {
		return nil
	}
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("write export file: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync export file: %w", err)
	}
	return nil
}

func (w *ndjsonWriter) close() error {
	if w.f == nil {
		return nil
	}
	err := w.sync()
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	w.f, w.buf = nil, nil
	return err
}

// filePatients are the patients whose resources an NDJSON file holds, for
// its download's audit record.
func filePatients(typ string, body []byte) []string {
	seen := map[string]bool{}
	var out []string
	for line := range bytes.Lines(body) {
		obj, err := fhir.DecodeObject(bytes.TrimSpace(line))
		if err != nil {
			continue
		}
		if p := policy.Attributes(typ, obj).Patient; p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
