package server

import "context"

// SweepTimedOutBuilds runs one timeout sweep, for the external tests.
func (s *Server) SweepTimedOutBuilds(ctx context.Context) error { return s.failTimedOutBuilds(ctx) }
