package gateway

// Hooks for the tests of package gateway_test.

// SetExportPageHook has f called after each page an export of s saves.
func SetExportPageHook(s *Server, f func(job string)) { s.exportPageHook = f }

// StopExports cancels the running exports of s as a shutdown does,
// without waiting for them (Close waits).
func StopExports(s *Server) { s.stop() }
